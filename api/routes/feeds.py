"""Feeds: subscribe to RSS/Atom feeds, list them with their schedule, refresh them (new or changed items are
ingested). The scheduler (ingest/feed_scheduler.py) refreshes them on its own; a manual refresh takes the same
per-feed leases, so it never runs beside a scheduled one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.deps import IngestorDep
from api.errors import responses
from api.schemas_feeds import FeedIn, FeedList, FeedOut, RefreshIn, RefreshOut
from ingest.feed_reports import FeedError
from ingest.feed_scheduler import FeedScheduler
from ingest.feeds import FeedManager
from ingest.pipeline import Ingestor

router = APIRouter(prefix="/v1", tags=["feeds"])


def _manager(ingestor: Ingestor) -> FeedManager:
    return FeedManager(ingestor)


@router.post("/feeds", status_code=201, response_model=FeedOut, responses=responses(401, 422, 429, 500))
def add_feed(body: FeedIn, ingestor: IngestorDep, request: Request) -> FeedOut:
    """Subscribe; the scheduler, when this server runs one, fetches a new feed at once."""
    manager = _manager(ingestor)
    try:
        feed, _ = manager.add(body.url, body.interval_s)
    except FeedError as exc:
        raise HTTPException(422, str(exc)) from exc
    finally:
        manager.close()
    scheduler: FeedScheduler | None = getattr(request.app.state, "feed_scheduler", None)
    if scheduler is not None:
        scheduler.wake()
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
        manager = _manager(ingestor)
        try:
            return manager.refresh(body.feeds if body and body.feeds is not None else None).as_dict()
        finally:
            manager.close()

    return RefreshOut.model_validate(await run_in_threadpool(run))
