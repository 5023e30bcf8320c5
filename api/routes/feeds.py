"""Feeds: subscribe to RSS/Atom feeds, list them, refresh them (new or changed items are ingested)."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import IngestorDep
from api.errors import responses
from ingest.feeds import Feed, FeedError, FeedManager
from ingest.pipeline import Ingestor

router = APIRouter(prefix="/v1", tags=["feeds"])
_refreshing = threading.Lock()  # one refresh at a time: they share the registry and the feed store


class FeedIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048, description="The feed's http:// or https:// URL.")


class FeedOut(BaseModel):
    id: int
    url: str
    title: str
    added_at: str
    last_checked: str | None
    last_error: str | None
    items: int

    @classmethod
    def of(cls, feed: Feed) -> FeedOut:
        return cls(
            id=feed.id,
            url=feed.url,
            title=feed.title,
            added_at=feed.added_at,
            last_checked=feed.last_checked,
            last_error=feed.last_error,
            items=feed.items,
        )


class FeedList(BaseModel):
    items: list[FeedOut]


class RefreshIn(BaseModel):
    feeds: list[int] | None = Field(None, max_length=1000, description="Feed ids; all feeds when absent.")


class ItemOut(BaseModel):
    guid: str
    link: str
    status: str = Field(description="added | updated | unchanged | duplicate | rejected | expired")
    article_id: str | None = None
    reason: str | None = None


class FeedReportOut(BaseModel):
    id: int
    url: str
    title: str
    status: str = Field(description="ok | not_modified | error")
    error: str | None = None
    items: list[ItemOut]


class RefreshOut(BaseModel):
    feeds: list[FeedReportOut]
    counts: dict[str, int]


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
