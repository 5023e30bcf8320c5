"""The public contract of the feed routes (``/v1/feeds``): light models, importable without the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from rag.types import FEED_MAX_INTERVAL_S as MAX_INTERVAL_S
from rag.types import FEED_MIN_INTERVAL_S as MIN_INTERVAL_S

if TYPE_CHECKING:
    from ingest.feed_reports import Feed


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
