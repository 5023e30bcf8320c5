"""The database adapter (rag/storage/db.py) on both back ends: one SQL text for both, migrations applied once even when
several processes start at once, the cross-process lock, and a database that cannot be reached."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from evals.pgserver import PgServer, free_port
from rag.settings import PROJECT_ROOT
from rag.storage.db import DatabaseUnavailable, open_database

# A migration that fails if it runs twice (CREATE TABLE without IF NOT EXISTS) and counts its runs.
MIGRATE = """
import sys
from rag.storage.db import open_database
from pathlib import Path
db = open_database(sys.argv[1] or None, Path(sys.argv[2]))
db.migrate("race", ["CREATE TABLE race_runs (n INTEGER); INSERT INTO race_runs VALUES (1)"])
db.close()
"""


def test_one_sql_text_runs_on_both(tmp_path: Path, database_url: str | None) -> None:
    db = open_database(database_url, tmp_path / "t.sqlite3")
    db.migrate("t", ["CREATE TABLE t (k TEXT PRIMARY KEY, v REAL, b BLOB, n INTEGER NOT NULL DEFAULT 0)"])
    db.executemany("INSERT INTO t (k, v, b) VALUES (?, ?, ?)", [("a%b", 1.5, b"\x00\x01"), ("c?d", 2.25, b"")])
    upsert = "INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = t.n + 1, v = excluded.v"
    assert db.execute(upsert, ("a%b", 9.0)) == 1
    row = db.query_one("SELECT k, v, b, n FROM t WHERE k LIKE ?", ("a%",))
    assert row is not None and (row["k"], row["v"], bytes(row["b"]), row["n"]) == ("a%b", 9.0, b"\x00\x01", 1)
    assert [r[0] for r in db.query("SELECT k FROM t WHERE k != 'x%' ORDER BY k")] == ["a%b", "c?d"]
    with pytest.raises(RuntimeError), db.transaction() as tx:  # a failed transaction leaves nothing behind
        tx.execute("DELETE FROM t")
        raise RuntimeError("rolled back")
    assert db.query_one("SELECT COUNT(*) FROM t")[0] == 2  # type: ignore[index]
    db.close()


def test_migrations_run_once_when_processes_start_at_once(tmp_path: Path, database_url: str | None) -> None:
    path = tmp_path / "race.sqlite3"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, database_url or "", str(path)],
            cwd=PROJECT_ROOT,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()[-2000:]
    db = open_database(database_url, path)
    assert db.query_one("SELECT COUNT(*) FROM race_runs")[0] == 1  # type: ignore[index]
    assert db.query_one("SELECT version FROM schema_versions WHERE component = 'race'")[0] == 1  # type: ignore[index]
    db.close()


@pytest.mark.postgres
def test_the_lock_holds_across_connections_and_frees_on_exit(pg_server: PgServer) -> None:
    url = pg_server.new_database()
    # Two pools on one database stand for two hosts: a lock taken through one excludes the other.
    holder, other = open_database(url, Path("unused")), open_database(url + "?application_name=other", Path("x"))
    acquired = threading.Event()

    def take() -> None:
        with other.lock("write"):
            acquired.set()

    with holder.lock("write"):
        thread = threading.Thread(target=take)
        thread.start()
        waiting = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        while holder.query_one(waiting)[0] == 0:  # type: ignore[index]
            assert thread.is_alive()
            time.sleep(0.01)
        assert not acquired.is_set()  # the other session is queued on the lock, not holding it
    thread.join(timeout=30)
    assert acquired.is_set()
    holder.close()
    other.close()


@pytest.mark.postgres
def test_an_unreachable_server_is_database_unavailable(pg_server: PgServer) -> None:
    db = open_database(f"postgresql://postgres@127.0.0.1:{free_port()}/none", Path("unused"))
    with pytest.raises(DatabaseUnavailable, match="unavailable"):
        db.query("SELECT 1")
    db.close()


def test_a_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        open_database("mysql://db/x", tmp_path / "x.sqlite3")
