"""Rate-limit buckets in the database (rag/storage/db.py): with NEWSDESK_DATABASE_URL every replica draws from one
bucket per client, so a limit holds however the requests are spread. The in-memory buckets (api/limits.py) stay the
default. One ``take`` is one atomic upsert that refills, spends and reports in a single statement; times are
wall-clock epoch seconds (a replica whose clock runs behind never refills a bucket backwards).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from rag.settings import Settings
from rag.storage.db import Database, open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_buckets (
    name TEXT PRIMARY KEY, tokens REAL NOT NULL, counted REAL NOT NULL, allowed INTEGER NOT NULL
)
"""
PRUNE_EVERY = 1000  # takes between deletions of buckets that have refilled completely


class DatabaseTokenBuckets:
    """Token buckets shared through a database: ``capacity`` requests at once, refilled at ``refill_per_s``."""

    blocking = True  # each take is a database round trip: callers on an event loop run it in a thread

    def __init__(
        self, db: Database, capacity: float, refill_per_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        if capacity < 1 or refill_per_s <= 0:
            raise ValueError("a rate limit needs a capacity of at least 1 and a positive refill rate")
        self.capacity = float(capacity)
        self.refill_per_s = float(refill_per_s)
        self._db = db
        self._clock = clock
        self._takes = 0
        self._count_lock = threading.Lock()
        db.migrate("rate_limits", [SCHEMA])
        # The bounds are numbers from the settings (floats), written into the statement rather than bound 4 times.
        cap, rate = repr(self.capacity), repr(self.refill_per_s)
        elapsed = (
            "(CASE WHEN excluded.counted > rate_buckets.counted "
            "THEN excluded.counted - rate_buckets.counted ELSE 0 END)"
        )
        refilled = f"rate_buckets.tokens + {elapsed} * {rate}"
        tokens = f"(CASE WHEN {refilled} > {cap} THEN {cap} ELSE {refilled} END)"
        self._take_sql = (
            "INSERT INTO rate_buckets (name, tokens, counted, allowed) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (name) DO UPDATE SET "
            f"tokens = CASE WHEN {tokens} >= 1 THEN {tokens} - 1 ELSE {tokens} END, "
            f"allowed = CASE WHEN {tokens} >= 1 THEN 1 ELSE 0 END, "
            "counted = CASE WHEN excluded.counted > rate_buckets.counted "
            "THEN excluded.counted ELSE rate_buckets.counted END "
            "RETURNING tokens, allowed"
        )
        self._prune_sql = f"DELETE FROM rate_buckets WHERE tokens + (? - counted) * {rate} >= {cap}"

    def take(self, name: str) -> float:
        """Take a token: 0.0 when the request may go ahead, else the seconds until a token is free."""
        now = self._clock()
        row = self._db.query_one(self._take_sql, (name, self.capacity - 1.0, now))
        assert row is not None  # an upsert with RETURNING always returns its row
        with self._count_lock:
            self._takes += 1
            prune = self._takes % PRUNE_EVERY == 0
        if prune:
            self._db.execute(self._prune_sql, (now,))
        return 0.0 if int(row[1]) else (1.0 - float(row[0])) / self.refill_per_s

    def close(self) -> None:
        self._db.close()


def open_rate_buckets(settings: Settings) -> DatabaseTokenBuckets | None:
    """The shared buckets with NEWSDESK_DATABASE_URL and a rate limit; None otherwise (in-memory or no limit)."""
    rate = settings.rate_limit_per_minute
    if not settings.database_url or rate <= 0:
        return None
    return DatabaseTokenBuckets(
        open_database(settings.database_url, settings.data_dir / "unused.sqlite3"), rate, rate / 60.0
    )
