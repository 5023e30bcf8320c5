"""What a feed is and what a refresh did, as the CLI, the API and the scheduler report them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class FeedError(ValueError):
    """A feed URL cannot be added (the message says why)."""


@dataclass(frozen=True)
class Feed:
    id: int
    url: str
    title: str
    added_at: str
    last_checked: str | None
    last_error: str | None
    etag: str | None = None
    last_modified: str | None = None
    items: int = 0  # items seen in the feed (and remembered)
    interval_s: float = 0.0  # the feed's own interval, else NEWSDESK_FEED_INTERVAL_S
    next_refresh: str | None = None  # None: due now
    last_status: str | None = None
    failures: int = 0  # consecutive failed refreshes
    articles_added: int = 0
    articles_updated: int = 0
    refreshing: bool = False  # a live lease is held on it


@dataclass
class ItemReport:
    guid: str
    link: str
    status: str  # added | updated | unchanged | duplicate | rejected | expired
    article_id: str | None = None
    reason: str | None = None


@dataclass
class FeedReport:
    id: int
    url: str
    title: str = ""
    status: str = "ok"  # ok | not_modified | error | busy (another refresh holds it) | interrupted
    error: str | None = None
    items: list[ItemReport] = field(default_factory=list)


@dataclass
class RefreshReport:
    feeds: list[FeedReport] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(
            ("added", "updated", "unchanged", "duplicate", "rejected", "expired", "feed_errors", "busy"), 0
        )
        for feed in self.feeds:
            counts["feed_errors"] += feed.status == "error"
            counts["busy"] += feed.status == "busy"
            for item in feed.items:
                counts[item.status] = counts.get(item.status, 0) + 1
        return counts

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{len(self.feeds)} feeds ({c['feed_errors']} failed): added {c['added']}, updated {c['updated']}, "
            f"unchanged {c['unchanged']}, duplicates {c['duplicate']}, rejected {c['rejected']}, "
            f"expired {c['expired']}" + (f"; {c['busy']} busy (being refreshed elsewhere)" if c["busy"] else "")
        )

    def as_dict(self) -> dict[str, Any]:
        return {"feeds": [asdict(f) for f in self.feeds], "counts": self.counts()}
