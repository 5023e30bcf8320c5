"""Feeds: subscribe to RSS/Atom feeds, list them, refresh them (new or changed items are ingested)."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from api.deps import IngestorDep
from api.errors import responses
from api.schemas_feeds import FeedIn, FeedList, FeedOut, RefreshIn, RefreshOut
from ingest.feeds import FeedError, FeedManager
from ingest.pipeline import Ingestor

router = APIRouter(prefix="/v1", tags=["feeds"])
_refreshing = threading.Lock()  # one refresh at a time: they share the registry and the feed store


def _manager(ingestor: Ingestor) -> FeedManager:
    return FeedManager(ingestor)


@router.post("/feeds", status_code=201, response_model=FeedOut, responses=responses(401, 422, 429, 500))
def add_feed(body: FeedIn, ingestor: IngestorDep) -> FeedOut:
    manager = _manager(ingestor)
    try:
        feed, _ = manager.add(body.url)
    except FeedError as exc:
        raise HTTPException(422, str(exc)) from exc
    finally:
        manager.close()
    return FeedOut.of(feed)


@router.get("/feeds", response_model=FeedList, responses=responses(401, 429, 500))
def list_feeds(ingestor: IngestorDep) -> FeedList:
    manager = _manager(ingestor)
    try:
        return FeedList(items=[FeedOut.of(f) for f in manager.list()])
    finally:
        manager.close()


@router.post("/feeds/refresh", response_model=RefreshOut, responses=responses(400, 401, 422, 429, 500))
async def refresh_feeds(ingestor: IngestorDep, body: RefreshIn | None = None) -> RefreshOut:
    def run() -> dict[str, Any]:
        with _refreshing:
            manager = _manager(ingestor)
            try:
                return manager.refresh(body.feeds if body and body.feeds is not None else None).as_dict()
            finally:
                manager.close()

    return RefreshOut.model_validate(await run_in_threadpool(run))
