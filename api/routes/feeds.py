"""Feeds: subscribe to RSS/Atom feeds, list them with their schedule, refresh them (new or changed items are
ingested). The scheduler (ingest/feed_scheduler.py) refreshes them on its own; a manual refresh takes the same
per-feed leases, so it never runs beside a scheduled one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import IngestorDep
from api.errors import responses
from ingest.feed_schedule import MAX_INTERVAL_S, MIN_INTERVAL_S
from ingest.feed_scheduler import FeedScheduler
from ingest.feeds import Feed, FeedError, FeedManager
from ingest.pipeline import Ingestor

router = APIRouter(prefix="/v1", tags=["feeds"])


class FeedIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048, description="The feed's http:// or https:// URL.")
    interval_s: float | None = Field(
        None,
        ge=MIN_INTERVAL_S,
        le=MAX_INTERVAL_S,
        description="Seconds between refreshes of this feed (default NEWSDESK_FEED_INTERVAL_S). For a feed "
        "already subscribed, sets its interval from its next refresh on.",
    )


class FeedOut(BaseModel):
    id: int
    url: str
    title: str
    added_at: str
    last_checked: str | None = Field(description="When the last refresh finished (ISO 8601, UTC).")
    last_error: str | None
    items: int = Field(description="Items seen in the feed.")
    interval_s: float = Field(description="Seconds between refreshes (before backoff and jitter).")
    next_refresh: str | None = Field(description="When the feed is due next (ISO 8601, UTC); null: now.")
    last_status: str | None = Field(description="ok | not_modified | error | interrupted; null: never refreshed.")
    failures: int = Field(description="Consecutive failed refreshes (each doubles the wait, up to a cap).")
    articles_added: int = Field(description="Articles this feed added, in all.")
    articles_updated: int = Field(description="Articles this feed updated, in all.")
    refreshing: bool = Field(description="A refresh holds the feed's lease right now.")

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
            interval_s=feed.interval_s,
            next_refresh=feed.next_refresh,
            last_status=feed.last_status,
            failures=feed.failures,
            articles_added=feed.articles_added,
            articles_updated=feed.articles_updated,
            refreshing=feed.refreshing,
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
    status: str = Field(
        description="ok | not_modified | error | busy (another refresh holds the feed) | interrupted (stopped; "
        "what was ingested stays, the rest comes next time)"
    )
    error: str | None = None
    items: list[ItemOut]


class RefreshOut(BaseModel):
    feeds: list[FeedReportOut]
    counts: dict[str, int]


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
