"""RSS/Atom feeds: subscribe, refresh (new or changed items only), fetch and extract each item's page, ingest.

Feeds and the items seen in them live in ``DATA_DIR/feeds.sqlite3``, or in PostgreSQL with NEWSDESK_DATABASE_URL
(rag/storage/db.py), where every replica and worker shares them. An item is known by its feed and GUID and
compared by a fingerprint of its entry (title, link, summary, content, dates); only new or changed items are
fetched. One failing feed or page never stops the others: every outcome is reported per feed and per item.

A refresh holds each feed's lease (ingest/feed_schedule.py) from its fetch to its outcome. Items are committed one by
one as they are ingested, and the feed's validators (ETag, Last-Modified) and schedule move on only once all of its
items are done: a refresh stopped or killed midway keeps what it ingested and fetches the rest the next time.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx

from ingest.feed_entries import entry_body_text, entry_fingerprint, entry_published
from ingest.feed_reports import Feed, FeedError, FeedReport, ItemReport, RefreshReport
from ingest.feed_schedule import (
    check_interval,
    claim,
    due_feed_ids,
    finish,
    leases_kept,
    migrate,
    new_owner,
    release,
    seconds_to_next,
    wait_after,
)
from ingest.fetch import MAX_REDIRECTS, FetchResult, fetch
from ingest.html import extract_article
from ingest.loaders import Record
from ingest.pipeline import Ingestor
from rag.storage.db import open_database

log = logging.getLogger("newsdesk.feeds")

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL UNIQUE,
    etag TEXT,
    last_modified TEXT,
    title TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    last_checked TEXT,
    last_error TEXT,
    interval_s REAL,
    next_refresh_at REAL,
    last_status TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    articles_added INTEGER NOT NULL DEFAULT 0,
    articles_updated INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires REAL
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


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


class FeedManager:
    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.settings = ingestor.services.settings
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = open_database(self.settings.database_url, self.settings.data_dir / "feeds.sqlite3")
        self._db.migrate("feeds", [SCHEMA])
        migrate(self._db)
        self.owner = new_owner()  # this manager's name on the leases it takes
        self._lock = threading.Lock()  # one refresh or add at a time per manager (the API shares one)

    def close(self) -> None:
        self._db.close()

    # -- subscriptions ------------------------------------------------------------------------------------------
    def add(self, url: str, interval_s: float | None = None) -> tuple[Feed, bool]:
        """Subscribe to ``url``, due for its first refresh at once; returns the feed and whether it was new. Adding
        a known URL changes nothing but its interval, when one is given (it applies from its next refresh)."""
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FeedError(f"{url!r} is not an http:// or https:// URL")
        if interval_s is not None:
            try:
                check_interval(interval_s)
            except ValueError as exc:
                raise FeedError(str(exc)) from None
        with self._lock, self._db.transaction() as tx:
            created = (
                tx.execute(
                    "INSERT INTO feeds(url, added_at, interval_s, next_refresh_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(url) DO NOTHING",
                    (url, _now().isoformat(), interval_s, time.time()),
                )
                == 1
            )
            if not created and interval_s is not None:
                tx.execute("UPDATE feeds SET interval_s = ? WHERE url = ?", (interval_s, url))
        feed = next(f for f in self.list() if f.url == url)
        return feed, created

    def list(self) -> builtins.list[Feed]:
        rows = self._db.query(
            "SELECT f.*, (SELECT COUNT(*) FROM items i WHERE i.feed_url = f.url) AS n FROM feeds f ORDER BY f.id"
        )
        now = time.time()
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
                interval_s=r["interval_s"] or self.settings.feed_interval_s,
                next_refresh=_iso(r["next_refresh_at"]),
                last_status=r["last_status"],
                failures=r["failures"],
                articles_added=r["articles_added"],
                articles_updated=r["articles_updated"],
                refreshing=r["lease_owner"] is not None and (r["lease_expires"] or 0) >= now,
            )
            for r in rows
        ]

    def due_ids(self) -> builtins.list[int]:
        """The feeds whose next refresh has come and that nobody is refreshing."""
        return due_feed_ids(self._db)

    def seconds_to_next(self) -> float | None:
        """Seconds until the next feed is due (0: one is due now); None when there is none to wait for."""
        return seconds_to_next(self._db)

    # -- refresh ------------------------------------------------------------------------------------------------
    def refresh(
        self,
        feeds: Iterable[int | str] | None = None,
        progress: Callable[[str], None] | None = None,
        now: datetime | None = None,
        *,
        due_only: bool = False,
        should_stop: Callable[[], bool] | None = None,
    ) -> RefreshReport:
        """Refresh the given feeds (ids or URLs; all when None) and ingest their new or changed items.

        A feed whose lease another refresh holds is skipped (status ``busy``). ``due_only`` (the scheduler) takes
        only feeds whose next refresh has come and reports only those; ``should_stop`` is asked before each item,
        and a stopped feed keeps what it ingested and stays due (status ``interrupted``)."""
        with self._lock:
            return self._refresh(feeds, progress, now or _now(), due_only, should_stop or (lambda: False))

    def _refresh(
        self,
        wanted: Iterable[int | str] | None,
        progress: Callable[[str], None] | None,
        now: datetime,
        due_only: bool,
        should_stop: Callable[[], bool],
    ) -> RefreshReport:
        chosen = self.list()
        if wanted is not None:
            keys = {str(w) for w in wanted}
            chosen = [f for f in chosen if str(f.id) in keys or f.url in keys]
        lease_s = self.settings.feed_lease_s
        claimed = [f for f in chosen if claim(self._db, f.id, self.owner, lease_s, due_only=due_only)]
        reports = {f.id: FeedReport(id=f.id, url=f.url, title=f.title) for f in chosen}
        for feed_id in reports.keys() - {f.id for f in claimed}:
            reports[feed_id].status = "busy"
        report = RefreshReport([reports[f.id] for f in (claimed if due_only else chosen)])
        if not claimed:
            return report
        finished: set[int] = set()
        timeout = self.settings.fetch_timeout_s
        try:
            with (
                leases_kept(self._db, [f.id for f in claimed], self.owner, lease_s),
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

                fetched = list(pool.map(lambda f: get(f.url, f.etag, f.last_modified, False), claimed))
                queued: dict[tuple[str, str], _Job] = {}
                for feed, result in zip(claimed, fetched, strict=True):
                    if should_stop():
                        break
                    feed_report = reports[feed.id]
                    complete = True
                    try:
                        jobs = self._feed_jobs(feed, result, feed_report, now, queued)
                        if progress:
                            progress(f"{feed.url}: {feed_report.status}")
                        complete = self._ingest_jobs(jobs, pool, get, now, progress, should_stop)
                    except Exception as exc:  # one feed's failure never stops the others
                        log.exception("refreshing feed %s failed", feed.url)
                        feed_report.status, feed_report.error = "error", f"internal error: {exc}"
                    self._finish(feed, result, feed_report, complete)
                    finished.add(feed.id)
        finally:
            for feed in claimed:  # stopped (or failed) before these: they stay due, with no outcome
                if feed.id not in finished:
                    release(self._db, feed.id, self.owner)
                    reports[feed.id].status = "interrupted"
        return report

    def _ingest_jobs(
        self,
        jobs: builtins.list[_Job],
        pool: ThreadPoolExecutor,
        get: Callable[[str], FetchResult],
        now: datetime,
        progress: Callable[[str], None] | None,
        should_stop: Callable[[], bool],
    ) -> bool:
        """Ingest the jobs in feed order (their pages fetched ahead, in parallel); False if stopped midway."""
        pages: builtins.list[Future[FetchResult | None]] = [
            pool.submit(lambda j: get(j.link) if j.link and j.twin_of is None else None, job) for job in jobs
        ]
        try:
            for job, page in zip(jobs, pages, strict=True):
                if should_stop():
                    return False
                job.page = page.result()
                self._ingest_job(job, now)  # committed item by item: a later crash keeps it
                if progress:
                    progress(f"{job.link or job.guid}: {job.feed.items[-1].status}")
        finally:
            for page in pages:  # a stop: the fetches not started yet are dropped
                page.cancel()
        return True

    def _finish(self, feed: Feed, result: FetchResult, report: FeedReport, complete: bool) -> None:
        """Record the outcome, schedule the next refresh and release the lease. Only a complete refresh advances
        the feed's validators: an interrupted one leaves them, so the next fetch returns the whole feed again."""
        finished_at = time.time()
        settings = self.settings
        wait = 0.0
        values: dict[str, object]
        if not complete:
            report.status = "interrupted"
            values = {"last_status": "interrupted", "next_refresh_at": finished_at}  # due again at once
        elif report.status == "error":
            failures = feed.failures + 1
            wait = wait_after(feed.interval_s, failures, settings.feed_backoff_max_s, settings.feed_jitter)
            values = {"last_error": report.error, "failures": failures}
        else:
            wait = wait_after(feed.interval_s, 0, settings.feed_backoff_max_s, settings.feed_jitter)
            values = {"title": report.title or feed.title, "last_error": None, "failures": 0}
            if report.status == "ok":  # a 304 keeps the validators it was sent with
                values.update(etag=result.etag, last_modified=result.last_modified)
        if complete:
            values.update(
                last_status=report.status,
                last_checked=datetime.fromtimestamp(finished_at, UTC).isoformat(),
                next_refresh_at=finished_at + wait,
            )
        if not finish(self._db, feed.id, self.owner, values):
            log.warning("feed %s: lease lost during the refresh; its outcome was not recorded", feed.url)

    def _feed_jobs(
        self,
        feed: Feed,
        result: FetchResult,
        report: FeedReport,
        now: datetime,
        queued: dict[tuple[str, str], _Job],
    ) -> builtins.list[_Job]:
        if result.not_modified:
            report.status = "not_modified"
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
            return []
        title = str(parsed.feed.get("title") or "") or feed.title or urlsplit(feed.url).netloc
        report.title = title
        known = {
            r["guid"]: r
            for r in self._db.query("SELECT * FROM items WHERE feed_url = ?", (feed.url,))
        }
        jobs: builtins.list[_Job] = []
        current: set[str] = set()
        for entry in parsed.entries:
            link = str(entry.get("link") or "")
            guid = str(entry.get("id") or link or entry.get("title") or "")
            if not guid or guid in current:
                continue
            current.add(guid)
            fingerprint = entry_fingerprint(entry)
            row = known.get(guid)
            if row is not None and row["fingerprint"] == fingerprint:
                report.items.append(ItemReport(guid, link, "unchanged", row["article_id"]))
                continue
            twin = self._db.query_one(
                "SELECT article_id FROM items WHERE link = ? AND fingerprint = ? AND feed_url != ? "
                "AND article_id IS NOT NULL LIMIT 1",
                (link, fingerprint, feed.url),
            )
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
        entry_text = entry_body_text(entry)
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
        data["published_at"] = entry_published(entry) or data.get("published_at")
        result = self.ingestor.ingest([Record(job.link or job.guid, data)])
        if result.rejected:
            self._report(job, ItemReport(job.guid, job.link, "rejected", reason=result.rejected[0].reason))
            return
        article_id = result.article_ids[0]
        status = "added" if result.added else "updated" if result.updated else "unchanged"
        self._remember(job.feed.url, job.guid, job.link, job.fingerprint, article_id, now, status)
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
            row = self._db.query_one("SELECT * FROM items WHERE feed_url = ? AND guid = ?", (feed_url, guid))
            if row is None or datetime.fromisoformat(row["seen_at"]) > cutoff:
                continue
            article_id = row["article_id"]
            self._db.execute("DELETE FROM items WHERE feed_url = ? AND guid = ?", (feed_url, guid))
            still_used = (
                article_id
                and self._db.query_one("SELECT 1 FROM items WHERE article_id = ? LIMIT 1", (article_id,))
            )
            if article_id and not still_used:
                self.ingestor.delete(article_id)
            report.items.append(ItemReport(guid, row["link"], "expired", article_id))

    def _remember(
        self,
        feed_url: str,
        guid: str,
        link: str,
        fingerprint: str,
        article_id: str | None,
        now: datetime,
        outcome: str | None = None,
    ) -> None:
        """Remember the item (and count an added or updated article on its feed) in one transaction."""
        with self._db.transaction() as tx:
            if outcome in ("added", "updated"):
                tx.execute(
                    f"UPDATE feeds SET articles_{outcome} = articles_{outcome} + 1 WHERE url = ?", (feed_url,)
                )
            tx.execute(
                "INSERT INTO items(feed_url, guid, link, fingerprint, article_id, seen_at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(feed_url, guid) DO UPDATE SET link = excluded.link, "
                "fingerprint = excluded.fingerprint, article_id = excluded.article_id, seen_at = excluded.seen_at",
                (feed_url, guid, link, fingerprint, article_id, now.isoformat()),
            )
