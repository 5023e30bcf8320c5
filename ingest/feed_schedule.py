"""When a feed is refreshed next, and who may refresh it now: the schedule columns, backoff, jitter and the lease.

Every refresh (the scheduler in `newsdesk serve` / `newsdesk worker`, `newsdesk feeds refresh`, the API) first claims
the feed's lease: one UPDATE that matches only while no live lease is held, so two processes never refresh one feed
at once, and the lease of a holder that died simply expires (a live holder renews its lease while it runs). The lease
is plain SQL on purpose (no file lock, no SQLite-only statement): with NEWSDESK_DATABASE_URL the feeds live in
PostgreSQL and the lease holds across every host sharing it.
Schedule and lease times are epoch seconds (REAL), so they compare as numbers in either database.
"""

from __future__ import annotations

import logging
import os
import random
import re
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rag.storage.db import Database, DatabaseUnavailable
from rag.types import FEED_MAX_INTERVAL_S, FEED_MIN_INTERVAL_S

log = logging.getLogger("newsdesk.feeds")

MIN_INTERVAL_S = FEED_MIN_INTERVAL_S
MAX_INTERVAL_S = FEED_MAX_INTERVAL_S

# Columns older data dirs lack; ``migrate`` adds them (the CREATE TABLE in ingest/feeds.py has them too).
SCHEDULE_COLUMNS = {
    "interval_s": "REAL",  # NULL: NEWSDESK_FEED_INTERVAL_S
    "next_refresh_at": "REAL",  # NULL: due now
    "last_status": "TEXT",  # ok | not_modified | error | interrupted
    "failures": "INTEGER NOT NULL DEFAULT 0",  # consecutive failed refreshes
    "articles_added": "INTEGER NOT NULL DEFAULT 0",
    "articles_updated": "INTEGER NOT NULL DEFAULT 0",
    "lease_owner": "TEXT",
    "lease_expires": "REAL",
}


def migrate(db: Database) -> None:
    """Add the schedule columns to a SQLite feeds table created before them (inside one write transaction, so two
    processes opening an old data dir at once do not both add a column). PostgreSQL tables were born with them."""
    if db.dialect != "sqlite":
        return
    if SCHEDULE_COLUMNS.keys() <= {row[1] for row in db.query("PRAGMA table_info(feeds)")}:
        return  # the common case: no write lock taken
    with db.transaction() as tx:
        present = {row[1] for row in tx.query("PRAGMA table_info(feeds)")}
        for name, declaration in SCHEDULE_COLUMNS.items():
            if name not in present:
                tx.execute(f"ALTER TABLE feeds ADD COLUMN {name} {declaration}")


def parse_interval(text: str) -> float:
    """'90', '90s', '5m', '1h30m', '1d' → seconds; ValueError with a one-line reason otherwise."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    elif value and re.fullmatch(r"(\d+(\.\d+)?[smhd])+", value):
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
        seconds = sum(float(n) * unit[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)([smhd])", value))
    else:
        raise ValueError(f"{text!r} is not an interval (e.g. 90s, 5m, 1h30m)")
    return check_interval(seconds)


def check_interval(seconds: float) -> float:
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ValueError(f"a feed interval must be between {MIN_INTERVAL_S:.0f} s and 7 days")
    return seconds


def wait_after(
    interval_s: float, failures: int, backoff_max_s: float, jitter: float, rng: random.Random | None = None
) -> float:
    """Seconds until the next refresh: the interval after a success; after ``failures`` consecutive failures the
    interval doubled per failure, capped at ``backoff_max_s`` (never below the interval); then stretched or shrunk
    at random by up to ``jitter`` so feeds added together drift apart instead of hitting their hosts in step."""
    wait = interval_s
    if failures > 0:
        wait = min(interval_s * 2.0 ** min(failures, 40), max(backoff_max_s, interval_s))
    return wait * (1.0 + (rng or random).uniform(-jitter, jitter))


def new_owner() -> str:
    """A lease owner name: host and pid for people reading the table, a random part so a restart is a new owner."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def claim(
    db: Database, feed_id: int, owner: str, lease_s: float, *, due_only: bool, now: float | None = None
) -> bool:
    """Take the feed's lease if nobody holds a live one (and, with ``due_only``, if the feed is due); atomic."""
    now = time.time() if now is None else now
    sql = (
        "UPDATE feeds SET lease_owner = ?, lease_expires = ? "
        "WHERE id = ? AND (lease_owner IS NULL OR lease_expires IS NULL OR lease_expires < ?)"
    )
    params: list[object] = [owner, now + lease_s, feed_id, now]
    if due_only:  # a refresh that just finished elsewhere has moved next_refresh_at on: do not repeat it
        sql += " AND (next_refresh_at IS NULL OR next_refresh_at <= ?)"
        params.append(now)
    return db.execute(sql, params) == 1


def renew(db: Database, feed_ids: Sequence[int], owner: str, lease_s: float) -> int:
    """Push the owner's leases on ``feed_ids`` forward; returns how many it still held."""
    held = 0
    for feed_id in feed_ids:
        held += db.execute(
            "UPDATE feeds SET lease_expires = ? WHERE id = ? AND lease_owner = ?",
            (time.time() + lease_s, feed_id, owner),
        )
    return held


def release(db: Database, feed_id: int, owner: str) -> None:
    db.execute(
        "UPDATE feeds SET lease_owner = NULL, lease_expires = NULL WHERE id = ? AND lease_owner = ?",
        (feed_id, owner),
    )


def due_feed_ids(db: Database, now: float | None = None) -> list[int]:
    """Feeds whose next refresh has come and that nobody is refreshing, the longest-waiting first."""
    now = time.time() if now is None else now
    rows = db.query(
        "SELECT id FROM feeds WHERE (next_refresh_at IS NULL OR next_refresh_at <= ?) "
        "AND (lease_owner IS NULL OR lease_expires IS NULL OR lease_expires < ?) "
        "ORDER BY COALESCE(next_refresh_at, 0), id",
        (now, now),
    )
    return [int(row[0]) for row in rows]


def seconds_to_next(db: Database, now: float | None = None) -> float | None:
    """Seconds until the earliest refresh nobody is running yet (0 when one is due); None without such feeds."""
    now = time.time() if now is None else now
    row = db.query_one(
        "SELECT MIN(COALESCE(next_refresh_at, 0)) FROM feeds "
        "WHERE lease_owner IS NULL OR lease_expires IS NULL OR lease_expires < ?",
        (now,),
    )
    return None if row is None or row[0] is None else max(0.0, float(row[0]) - now)


@contextmanager
def leases_kept(db: Database, feed_ids: Sequence[int], owner: str, lease_s: float) -> Iterator[None]:
    """Renew the leases every third of their length while the block runs (a thread of its own), so a long refresh
    keeps its feeds and a killed one loses them within ``lease_s``."""
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(lease_s / 3):
            try:
                if renew(db, feed_ids, owner, lease_s) < len(feed_ids):
                    log.warning("lost the lease on a feed being refreshed (held longer than %.0fs?)", lease_s)
            except (sqlite3.Error, DatabaseUnavailable):
                log.exception("could not renew feed leases (tried again in %.0fs)", lease_s / 3)

    thread = threading.Thread(target=keep, name="newsdesk-feed-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def finish(db: Database, feed_id: int, owner: str, values: dict[str, object]) -> bool:
    """Record a refresh's outcome and release the lease in one statement, only while ``owner`` still holds it
    (a holder that lost its lease must not overwrite the outcome of the refresh that took it over)."""
    columns = "".join(f"{name} = ?, " for name in values)
    updated = db.execute(
        f"UPDATE feeds SET {columns}lease_owner = NULL, lease_expires = NULL WHERE id = ? AND lease_owner = ?",
        (*values.values(), feed_id, owner),
    )
    return updated == 1
