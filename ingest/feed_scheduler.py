"""The feed scheduler: refreshes each feed when it is due, in a background thread (`newsdesk serve`) or in the
foreground (`newsdesk worker`).

It wakes when the earliest feed is due, or every NEWSDESK_FEED_POLL_S at the latest (feeds added or refreshed by other
processes are seen then), or at once when ``wake`` is called (a feed added through this process's API). Which feeds
are due and who may refresh them is decided in the feed registry (ingest/feed_schedule.py), so any number of
schedulers can share a data dir: the leases let exactly one of them refresh a given feed.
"""

from __future__ import annotations

import logging
import threading

from ingest.feed_reports import FeedReport
from ingest.feeds import FeedManager
from ingest.pipeline import Ingestor

log = logging.getLogger("newsdesk.feeds")
MIN_WAIT_S = 0.05


class FeedScheduler:
    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.settings = ingestor.services.settings
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control (any thread) -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the scheduler in a daemon thread (the API's lifespan); ``stop`` ends it."""
        self._thread = threading.Thread(target=self.run, name="newsdesk-feed-scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for due feeds now (a feed was just added)."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask the loop to end: a refresh in progress stops before its next item (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop and wait for the thread; the refresh in progress, if any, ends at its next item."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("the feed scheduler did not stop within %.0fs", timeout_s)

    # -- the loop -----------------------------------------------------------------------------------------------
    def run(self) -> None:
        """Refresh due feeds until ``request_stop``. The manager (its SQLite connection) lives in this thread."""
        manager = FeedManager(self.ingestor)
        log.info("feed scheduler started (owner %s)", manager.owner)
        try:
            while not self._stop.is_set():
                try:
                    wait = self.run_once(manager)
                except Exception:  # a broken tick must not end the scheduler: try again after a poll
                    log.exception("feed scheduler tick failed")
                    wait = self.settings.feed_poll_s
                self._wake.wait(wait)
                self._wake.clear()
        finally:
            manager.close()
            log.info("feed scheduler stopped")

    def run_once(self, manager: FeedManager) -> float:
        """Refresh the feeds that are due now; return how long to sleep before looking again."""
        due = manager.due_ids()
        if due:
            report = manager.refresh(due, due_only=True, should_stop=self._stop.is_set)
            for feed in report.feeds:
                _log_outcome(feed)
        until_next = manager.seconds_to_next()
        poll = self.settings.feed_poll_s
        # a floor, so a feed due but lost to another scheduler's claim a moment ago cannot make this loop spin
        return poll if until_next is None else max(MIN_WAIT_S, min(poll, until_next))


def _log_outcome(feed: FeedReport) -> None:
    counts: dict[str, int] = {}
    for item in feed.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    detail = ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "no items"
    if feed.status == "error":
        log.warning("feed %d %s: error: %s", feed.id, feed.url, feed.error)
    else:
        log.info("feed %d %s: %s (%s)", feed.id, feed.url, feed.status, detail)
