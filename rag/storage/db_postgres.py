"""PostgreSQL behind rag/storage/db.py's interface (psycopg 3 and its connection pool); the only module importing
psycopg.

One pool per URL per process, shared by every ``PostgresDatabase`` opened on it (registry, feeds, chat state,
rate limits) and closed with the last of them. Connections are checked when borrowed, so after a server restart
the dead ones are dropped and new ones made: requests fail with ``DatabaseUnavailable`` while the server is down
and succeed again once it is back, with no restart of ours.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool

from rag.storage.db import POOL_TIMEOUT_S, Database, DatabaseUnavailable, _Cursor, _pg_ddl, lock_key

POOL_MAX = 8
_pools: dict[str, tuple[psycopg_pool.ConnectionPool, int]] = {}
_pools_lock = threading.Lock()
_MIGRATED: set[tuple[str, str, int]] = set()  # (database, component, version) migrated by this process


def _acquire_pool(url: str) -> psycopg_pool.ConnectionPool:
    with _pools_lock:
        pool, users = _pools.get(url, (None, 0))
        if pool is None:
            pool = psycopg_pool.ConnectionPool(
                url,
                min_size=1,
                max_size=POOL_MAX,
                kwargs={"autocommit": True, "connect_timeout": 5},
                check=psycopg_pool.ConnectionPool.check_connection,
                timeout=POOL_TIMEOUT_S,
                open=False,
                name="newsdesk",
            )
            pool.open(wait=False)
        _pools[url] = (pool, users + 1)
        return pool


def _release_pool(url: str) -> None:
    with _pools_lock:
        pool, users = _pools[url]
        if users > 1:
            _pools[url] = (pool, users - 1)
            return
        del _pools[url]
    pool.close()


def _unavailable(exc: Exception) -> DatabaseUnavailable:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseUnavailable(f"the database (PostgreSQL) is unavailable: {reason}")


@contextmanager
def _translated() -> Iterator[None]:
    """Failures to reach the server become DatabaseUnavailable: no connection to be had from the pool, a connection
    lost, or SQLSTATE class 08 (connection), 57P (server shutting down or starting) and 53 (out of resources).
    Every other error (bad SQL, a deadlock, a serialisation failure) passes unchanged."""
    try:
        yield
    except (psycopg_pool.PoolTimeout, psycopg.InterfaceError) as exc:
        raise _unavailable(exc) from exc
    except psycopg.OperationalError as exc:
        if not exc.sqlstate or exc.sqlstate.startswith(("08", "57P", "53")):
            raise _unavailable(exc) from exc
        raise


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.identity = url
        self._pool = _acquire_pool(url)
        self._closed = False

    def ddl(self, sql: str) -> str:
        return _pg_ddl(sql)

    def migrate(self, component: str, steps: Sequence[str | Mapping[str, str]]) -> None:
        """As ``Database.migrate``, once per process and version: a component this process has brought to this
        version is not checked again (a SQLite file may be deleted and made again, so SQLite always checks)."""
        done = (self.identity, component, len(steps))
        if done not in _MIGRATED:
            super().migrate(component, steps)
            _MIGRATED.add(done)

    @contextmanager
    def _borrow(self) -> Iterator[Any]:
        with _translated(), self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _connection(self) -> Iterator[_Cursor]:
        with self._borrow() as conn:
            yield _Cursor(conn, self.dialect)

    @contextmanager
    def transaction(self, serial: str | None = None) -> Iterator[_Cursor]:
        with self._borrow() as conn, conn.transaction():
            if serial is not None:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(serial),))
            yield _Cursor(conn, self.dialect)

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """A session-level advisory lock on one borrowed connection, held until the block ends: one holder at a
        time across every process and host on this database. The server drops it if our connection dies."""
        key = lock_key(name)
        with self._borrow() as conn:
            with _translated():
                conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                # a connection that is gone took the lock with it
                with contextlib.suppress(psycopg.OperationalError, psycopg.InterfaceError):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release_pool(self.url)
