"""The public contract of the feed routes (``/v1/feeds``): light models, importable without the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from ingest.feeds import Feed


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
