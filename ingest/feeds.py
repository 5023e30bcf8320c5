"""RSS/Atom feeds: subscribe, refresh (new or changed items only), fetch and extract each item's page, ingest.

Feeds and the items seen in them live in ``DATA_DIR/feeds.sqlite3``. An item is known by its feed and GUID and
compared by a fingerprint of its entry (title, link, summary, content, dates); only new or changed items are
fetched. One failing feed or page never stops the others: every outcome is reported per feed and per item.
"""

from __future__ import annotations

import builtins
import hashlib
import html
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx

from ingest.fetch import MAX_REDIRECTS, FetchResult, fetch
from ingest.html import extract_article
from ingest.loaders import Record
from ingest.pipeline import Ingestor

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL UNIQUE,
    etag TEXT,
    last_modified TEXT,
    title TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    last_checked TEXT,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS items (
    feed_url TEXT NOT NULL,
    guid TEXT NOT NULL,
    link TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL,
    article_id TEXT,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (feed_url, guid)
);
CREATE INDEX IF NOT EXISTS items_link ON items(link);
"""


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
    items: int = 0


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
    status: str = "ok"  # ok | not_modified | error
    error: str | None = None
    items: list[ItemReport] = field(default_factory=list)


@dataclass
class RefreshReport:
    feeds: list[FeedReport] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(
            ("added", "updated", "unchanged", "duplicate", "rejected", "expired", "feed_errors"), 0
        )
        for feed in self.feeds:
            counts["feed_errors"] += feed.status == "error"
            for item in feed.items:
                counts[item.status] = counts.get(item.status, 0) + 1
        return counts

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{len(self.feeds)} feeds ({c['feed_errors']} failed): added {c['added']}, updated {c['updated']}, "
            f"unchanged {c['unchanged']}, duplicates {c['duplicate']}, rejected {c['rejected']}, "
            f"expired {c['expired']}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {"feeds": [asdict(f) for f in self.feeds], "counts": self.counts()}


@dataclass
class _Job:
    feed: FeedReport
    guid: str
    link: str
    fingerprint: str
    entry: dict[str, Any]
    feed_title: str
    page: FetchResult | None = None
    twin_of: _Job | None = None
    item: ItemReport | None = None  # the outcome, once ingested


def _now() -> datetime:
    return datetime.now(UTC)


def _fingerprint(entry: dict[str, Any]) -> str:
    content = [c.get("value", "") for c in entry.get("content", []) or []]
    parts = [
        entry.get("title", ""),
        entry.get("link", ""),
        entry.get("summary", ""),
        content,
        entry.get("published", ""),
        entry.get("updated", ""),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()


def _strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>", "\n\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def _entry_text(entry: dict[str, Any]) -> str:
    contents = [c.get("value", "") for c in entry.get("content", []) or [] if c.get("value")]
    best = max(contents, key=len) if contents else entry.get("summary", "") or ""
    return _strip_html(str(best))


def _entry_published(entry: dict[str, Any]) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime(*parsed[:6]).replace(tzinfo=UTC).isoformat()
    return None


class FeedManager:
    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.settings = ingestor.services.settings
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.settings.data_dir / "feeds.sqlite3", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()  # one refresh or add at a time per manager (the API shares one)

    def close(self) -> None:
        self._db.close()

    # -- subscriptions ------------------------------------------------------------------------------------------
    def add(self, url: str) -> tuple[Feed, bool]:
        """Subscribe to ``url``; returns the feed and whether it was new (adding a known URL changes nothing)."""
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FeedError(f"{url!r} is not an http:// or https:// URL")
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO feeds(url, added_at) VALUES (?, ?)", (url, _now().isoformat())
            )
        created = cursor.rowcount == 1
        feed = next(f for f in self.list() if f.url == url)
        return feed, created

    def list(self) -> builtins.list[Feed]:
        rows = self._db.execute(
            "SELECT f.*, (SELECT COUNT(*) FROM items i WHERE i.feed_url = f.url) AS n FROM feeds f ORDER BY f.id"
        ).fetchall()
        return [
            Feed(
                id=r["id"],
                url=r["url"],
                title=r["title"],
                added_at=r["added_at"],
                last_checked=r["last_checked"],
                last_error=r["last_error"],
                etag=r["etag"],
                last_modified=r["last_modified"],
                items=r["n"],
            )
            for r in rows
        ]

    # -- refresh ------------------------------------------------------------------------------------------------
    def refresh(
        self,
        feeds: Iterable[int | str] | None = None,
        progress: Callable[[str], None] | None = None,
        now: datetime | None = None,
    ) -> RefreshReport:
        """Refresh the given feeds (ids or URLs; all when None) and ingest their new or changed items."""
        with self._lock:
            return self._refresh(feeds, progress, now or _now())

    def _refresh(
        self, wanted: Iterable[int | str] | None, progress: Callable[[str], None] | None, now: datetime
    ) -> RefreshReport:
        chosen = self.list()
        if wanted is not None:
            keys = {str(w) for w in wanted}
            chosen = [f for f in chosen if str(f.id) in keys or f.url in keys]
        report = RefreshReport()
        timeout = self.settings.fetch_timeout_s
        with (
            httpx.Client(follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=timeout) as client,
            ThreadPoolExecutor(max_workers=self.settings.fetch_concurrency) as pool,
        ):

            def get(
                url: str, etag: str | None = None, modified: str | None = None, html_only: bool = True
            ) -> FetchResult:
                return fetch(
                    url,
                    timeout_s=timeout,
                    max_bytes=self.settings.fetch_max_bytes,
                    etag=etag,
                    last_modified=modified,
                    html_only=html_only,
                    client=client,
                )

            fetched = list(pool.map(lambda f: get(f.url, f.etag, f.last_modified, False), chosen))
            jobs: builtins.list[_Job] = []
            queued: dict[tuple[str, str], _Job] = {}
            for feed, result in zip(chosen, fetched, strict=True):
                feed_report = FeedReport(id=feed.id, url=feed.url, title=feed.title)
                report.feeds.append(feed_report)
                jobs.extend(self._feed_jobs(feed, result, feed_report, now, queued))
                if progress:
                    progress(f"{feed.url}: {feed_report.status}")
            pages = pool.map(lambda j: get(j.link) if j.link and j.twin_of is None else None, jobs)
            for job, page in zip(jobs, pages, strict=True):
                job.page = page
                self._ingest_job(job, now)
                if progress:
                    progress(f"{job.link or job.guid}: {job.feed.items[-1].status}")
        return report

    def _feed_jobs(
        self,
        feed: Feed,
        result: FetchResult,
        report: FeedReport,
        now: datetime,
        queued: dict[tuple[str, str], _Job],
    ) -> builtins.list[_Job]:
        checked = now.isoformat()
        if result.not_modified:
            report.status = "not_modified"
            self._update_feed(feed.url, last_checked=checked, last_error=None)
            return []
        error = result.error
        parsed: Any = None
        if error is None:
            parsed = feedparser.parse(
                result.content, response_headers={"content-type": result.content_type or "application/xml"}
            )
            if parsed.bozo and not parsed.entries:
                error = f"malformed feed: {parsed.get('bozo_exception', 'not RSS or Atom')}"
        if error is not None:
            report.status, report.error = "error", error
            self._update_feed(feed.url, last_checked=checked, last_error=error)
            return []
        title = str(parsed.feed.get("title") or "") or feed.title or urlsplit(feed.url).netloc
        report.title = title
        self._update_feed(
            feed.url,
            title=title,
            etag=result.etag,
            last_modified=result.last_modified,
            last_checked=checked,
            last_error=None,
        )
        known = {
            r["guid"]: r
            for r in self._db.execute("SELECT * FROM items WHERE feed_url = ?", (feed.url,)).fetchall()
        }
        jobs: builtins.list[_Job] = []
        current: set[str] = set()
        for entry in parsed.entries:
            link = str(entry.get("link") or "")
            guid = str(entry.get("id") or link or entry.get("title") or "")
            if not guid or guid in current:
                continue
            current.add(guid)
            fingerprint = _fingerprint(entry)
            row = known.get(guid)
            if row is not None and row["fingerprint"] == fingerprint:
                report.items.append(ItemReport(guid, link, "unchanged", row["article_id"]))
                continue
            twin = self._db.execute(
                "SELECT article_id FROM items WHERE link = ? AND fingerprint = ? AND feed_url != ? "
                "AND article_id IS NOT NULL LIMIT 1",
                (link, fingerprint, feed.url),
            ).fetchone()
            if link and twin is not None:  # the same story already came in through another feed
                self._remember(feed.url, guid, link, fingerprint, twin["article_id"], now)
                report.items.append(ItemReport(guid, link, "duplicate", twin["article_id"]))
                continue
            job = _Job(report, guid, link, fingerprint, dict(entry), title)
            if link:
                job.twin_of = queued.get((link, fingerprint))
                queued.setdefault((link, fingerprint), job)
            jobs.append(job)
        self._expire(feed.url, set(known) - current, report, now)
        return jobs

    def _ingest_job(self, job: _Job, now: datetime) -> None:
        if job.twin_of is not None:  # the same story, queued earlier in this refresh through another feed
            twin = job.twin_of.item
            if twin is None or twin.article_id is None:
                reason = twin.reason if twin is not None else None
                self._report(job, ItemReport(job.guid, job.link, "rejected", reason=reason))
                return
            self._remember(job.feed.url, job.guid, job.link, job.fingerprint, twin.article_id, now)
            self._report(job, ItemReport(job.guid, job.link, "duplicate", twin.article_id))
            return
        entry, page = job.entry, job.page
        data: dict[str, Any] = {}
        note = None
        entry_text = _entry_text(entry)
        if page is not None and page.ok:
            data = extract_article(page.text, page.url)
            page_body = str(data.get("body", "")).strip()
            # a page without article text (or with less than the feed entry itself) yields to the entry
            if not page_body or len(page_body) < len(entry_text):
                data["body"] = ""
                note = "no article text on the page; used the feed entry"
        elif page is not None:
            note = f"page: {page.error}; used the feed entry"
        if not str(data.get("body", "")).strip():
            data["body"] = entry_text
            if not entry_text:
                reason = (
                    page.error if page is not None else None
                ) or "no article text on the page or in the feed"
                self._report(job, ItemReport(job.guid, job.link, "rejected", reason=reason))
                return
        parts = urlsplit(str(data.get("url") or job.link))
        if not data.get("source") or data.get("source") in (parts.hostname, parts.netloc):
            data["source"] = job.feed_title
        data["title"] = data.get("title") or str(entry.get("title") or "")
        data["url"] = job.link or data.get("url") or ""
        data["author"] = data.get("author") or str(entry.get("author") or "")
        data["published_at"] = _entry_published(entry) or data.get("published_at")
        result = self.ingestor.ingest([Record(job.link or job.guid, data)])
        if result.rejected:
            self._report(job, ItemReport(job.guid, job.link, "rejected", reason=result.rejected[0].reason))
            return
        article_id = result.article_ids[0]
        status = "added" if result.added else "updated" if result.updated else "unchanged"
        self._remember(job.feed.url, job.guid, job.link, job.fingerprint, article_id, now)
        self._report(job, ItemReport(job.guid, job.link, status, article_id, note))

    @staticmethod
    def _report(job: _Job, item: ItemReport) -> None:
        job.item = item
        job.feed.items.append(item)

    def _expire(self, feed_url: str, gone: set[str], report: FeedReport, now: datetime) -> None:
        days = self.settings.feed_retention_days
        if days <= 0 or not gone:
            return
        cutoff = now - timedelta(days=days)
        for guid in sorted(gone):
            row = self._db.execute(
                "SELECT * FROM items WHERE feed_url = ? AND guid = ?", (feed_url, guid)
            ).fetchone()
            if row is None or datetime.fromisoformat(row["seen_at"]) > cutoff:
                continue
            article_id = row["article_id"]
            with self._db:
                self._db.execute("DELETE FROM items WHERE feed_url = ? AND guid = ?", (feed_url, guid))
            still_used = (
                article_id
                and self._db.execute(
                    "SELECT 1 FROM items WHERE article_id = ? LIMIT 1", (article_id,)
                ).fetchone()
            )
            if article_id and not still_used:
                self.ingestor.delete(article_id)
            report.items.append(ItemReport(guid, row["link"], "expired", article_id))

    def _remember(
        self, feed_url: str, guid: str, link: str, fingerprint: str, article_id: str | None, now: datetime
    ) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO items(feed_url, guid, link, fingerprint, article_id, seen_at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(feed_url, guid) DO UPDATE SET link = excluded.link, "
                "fingerprint = excluded.fingerprint, article_id = excluded.article_id, seen_at = excluded.seen_at",
                (feed_url, guid, link, fingerprint, article_id, now.isoformat()),
            )

    def _update_feed(self, url: str, **values: str | None) -> None:
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._db:
            self._db.execute(f"UPDATE feeds SET {columns} WHERE url = ?", (*values.values(), url))
