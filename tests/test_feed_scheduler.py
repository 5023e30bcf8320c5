"""The feed scheduler with real parts: a real local HTTP server serving fictional feeds, real `newsdesk serve` and
`newsdesk worker` processes over one data dir, real Chroma, the feed registry's SQLite leases.

Waits are bounded polls (``until``), never timing assertions: what is checked is what was recorded.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from localhttp import Reply, Site, html_page, serve

from evals.server import free_port
from ingest.feed_schedule import claim, parse_interval, release, wait_after
from ingest.feeds import FeedManager
from ingest.pipeline import Ingestor
from rag.pipeline import build_services
from rag.settings import PROJECT_ROOT, Settings
from rag.storage.db import open_database

NOTICE = "This is a fictional article written for the newsdesk tests."
PLACES = ["Exampleton", "Brindlecombe", "Osterhale", "Marrowfield", "Quillbury", "Tansey Cross", "Wendlemoor"]
XML = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
T = TypeVar("T")


def story(n: int) -> tuple[str, str]:
    place = PLACES[n % len(PLACES)]
    return (
        f"{place} opens its new market hall number {n}",
        f"{NOTICE} The town of {place} opened market hall number {n} on a Saturday morning, after {n + 2} years "
        f"of planning by the local trade guild.\n\nStallholder Ada Quern{n} said {10 * n + 7} traders had "
        f"signed up, and the guild expects the hall to pay for itself within {n + 3} seasons.",
    )


def rss_for(site: Site, numbers: list[int]) -> bytes:
    items = "".join(
        f"<item><title>{story(n)[0]}</title><link>{site.url(f'/news/{n}')}</link><guid>item-{n}</guid>"
        f"<description>Market hall {n}</description><pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate></item>"
        for n in numbers
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Example Market Wire</title>'
        f"<link>https://news.example.com/</link><description>Fictional</description>{items}</channel></rss>"
    ).encode()


def publish(site: Site, numbers: list[int], page_delay_s: float = 0.0, etag: str | None = None) -> None:
    """Serve the feed with these items (and their pages); with ``etag``, the feed honours If-None-Match."""
    for n in numbers:
        title, text = story(n)
        site.routes[f"/news/{n}"] = Reply(body=html_page(title, text).encode(), headers=HTML, delay_s=page_delay_s)
    feed = rss_for(site, numbers)
    if etag is None:
        site.routes["/rss"] = Reply(body=feed, headers=XML)
        return

    def conditional(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(body=feed, headers={**XML, "ETag": etag})

    site.routes["/rss"] = conditional


# The `serve`/`worker` processes a test is running now, with their logs: a wait fails at once, showing the log, when
# one of them has died, and a wait that gives up shows their logs (a CI failure must say what the process did).
RUNNING: list[tuple[subprocess.Popen[bytes], Path]] = []


def log_tails() -> str:
    return "".join(f"\n--- {log.name} (exit {proc.poll()}) ---\n{log.read_text()[-3000:]}" for proc, log in RUNNING)


def until(what: Callable[[], T | None], timeout_s: float = 90.0, why: str = "") -> T:
    """Poll ``what`` until it returns something truthy; fail (not a timing assertion: a bound on a hang)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = what()
        if value:
            return value
        if any(proc.poll() is not None for proc, _ in RUNNING):
            pytest.fail(f"a process exited while waiting for {why}:{log_tails()}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting after {timeout_s:.0f}s: {why}{log_tails()}")
        time.sleep(0.05)


def db_rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            db.row_factory = sqlite3.Row
            return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet


def article_count(data_dir: Path) -> int:
    rows = db_rows(data_dir / "articles.sqlite3", "SELECT COUNT(*) AS n FROM articles")
    return int(rows[0]["n"]) if rows else 0


def feed_row(data_dir: Path) -> sqlite3.Row | None:
    rows = db_rows(data_dir / "feeds.sqlite3", "SELECT * FROM feeds ORDER BY id LIMIT 1")
    return rows[0] if rows else None


def settings_env(**values: object) -> dict[str, str]:
    return {f"NEWSDESK_{name.upper()}": str(value) for name, value in values.items()}


@contextmanager
def process(kind: str, data_dir: Path, log: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`newsdesk serve` (on a free port; yields its base URL once healthy) or `newsdesk worker` (base URL "")."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    environment.update(
        NEWSDESK_DATA_DIR=str(data_dir), NEWSDESK_EMBEDDER="hashing", ORT_DISABLE_TELEMETRY="1", **env
    )
    command = [sys.executable, "-m", "newsdesk.cli", kind]
    base = ""
    if kind == "serve":
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    RUNNING.append((proc, log))
    try:
        if base:

            def healthy() -> bool:
                if proc.poll() is not None:
                    pytest.fail(f"serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
                except httpx.TransportError:
                    return False

            until(healthy, why="the server to answer /healthz")
        yield proc, base
    finally:
        RUNNING.remove((proc, log))
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def subscribe(data_dir: Path, url: str) -> None:
    services = build_services(Settings(data_dir=data_dir, embedder="hashing"))
    manager = FeedManager(Ingestor(services))
    manager.add(url)
    manager.close()
    services.close()


# -- policy and lease, directly ------------------------------------------------------------------------------------
def test_intervals_parse_and_waits_back_off_with_jitter() -> None:
    assert parse_interval("5m") == 300 and parse_interval("1h30m") == 5400 and parse_interval("90") == 90
    for bad in ("0", "5 parsecs", "", "8d"):
        with pytest.raises(ValueError):
            parse_interval(bad)
    assert [wait_after(60, n, 3600, 0.0) for n in range(5)] == [60, 120, 240, 480, 960]
    assert wait_after(60, 30, 3600, 0.0) == 3600  # capped
    assert wait_after(7200, 3, 3600, 0.0) == 7200  # the cap never goes below the interval
    draws = {wait_after(100, 0, 3600, 0.1) for _ in range(200)}
    assert len(draws) > 100 and min(draws) >= 90 and max(draws) <= 110


def test_a_lease_is_held_by_one_owner_until_released_or_expired(tmp_path: Path, database_url: str | None) -> None:
    services = build_services(Settings(data_dir=tmp_path, embedder="hashing", database_url=database_url))
    manager = FeedManager(Ingestor(services))
    feed, _ = manager.add("https://news.example.com/rss")
    db = open_database(database_url, tmp_path / "feeds.sqlite3")  # another process's (or host's) connection
    assert claim(db, feed.id, "a", 60, due_only=True)
    assert not claim(db, feed.id, "b", 60, due_only=False)
    assert manager.list()[0].refreshing
    report = manager.refresh()  # a manual refresh skips a feed someone else is refreshing
    assert report.feeds[0].status == "busy" and report.counts()["busy"] == 1
    release(db, feed.id, "b")  # only the owner releases
    assert not claim(db, feed.id, "b", 60, due_only=False)
    release(db, feed.id, "a")
    assert claim(db, feed.id, "b", 60, due_only=False)
    # b dies: once its lease has expired, a takes over
    assert not claim(db, feed.id, "a", 60, due_only=False, now=time.time() + 30)
    assert claim(db, feed.id, "a", 60, due_only=False, now=time.time() + 61)
    release(db, feed.id, "a")
    db.execute("UPDATE feeds SET next_refresh_at = ?", (time.time() + 600,))
    assert not claim(db, feed.id, "a", 60, due_only=True)  # not due: the scheduler leaves it
    assert manager.due_ids() == [] and 590 < (manager.seconds_to_next() or 0) <= 600
    db.close()
    manager.close()
    services.close()


def test_a_feed_registry_from_before_the_scheduler_gains_its_columns_and_is_due(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "feeds.sqlite3") as db:  # the schema as it was before the scheduler
        db.executescript(
            "CREATE TABLE feeds (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL UNIQUE, etag TEXT, "
            "last_modified TEXT, title TEXT NOT NULL DEFAULT '', added_at TEXT NOT NULL, last_checked TEXT, "
            "last_error TEXT);"
            "INSERT INTO feeds(url, added_at) VALUES ('https://news.example.com/rss', '2026-01-01T00:00:00+00:00');"
        )
    services = build_services(Settings(data_dir=tmp_path, embedder="hashing", feed_interval_s=60))
    manager = FeedManager(Ingestor(services))
    try:
        (feed,) = manager.list()
        assert feed.next_refresh is None and feed.failures == 0 and feed.interval_s == 60
        assert manager.due_ids() == [feed.id]
    finally:
        manager.close()
        services.close()


# -- the scheduler in a real server ----------------------------------------------------------------------------------
@pytest.mark.server
def test_scheduled_refreshes_pick_up_new_items_back_off_on_failure_and_show_in_the_api(tmp_path: Path) -> None:
    env = settings_env(feed_interval_s=0.5, feed_poll_s=0.1, feed_jitter=0.1, feed_backoff_max_s=60)
    with serve() as site, process("serve", tmp_path / "data", tmp_path / "serve.log", env) as (_, base):
        publish(site, [1])
        created = httpx.post(f"{base}/v1/feeds", json={"url": site.url("/rss")})
        assert created.status_code == 201, created.text

        def feed() -> dict[str, Any]:
            items: list[dict[str, Any]] = httpx.get(f"{base}/v1/feeds").json()["items"]
            return items[0]

        until(lambda: feed()["articles_added"] == 1, why="a new feed to be fetched at once")
        publish(site, [1, 2])  # a new item: no command, the next scheduled refresh takes it
        until(lambda: feed()["articles_added"] == 2, why="the scheduled refresh to add the new item")
        state = feed()
        assert state["items"] == 2 and state["last_status"] == "ok" and state["failures"] == 0
        assert state["last_error"] is None and state["interval_s"] == 0.5
        assert state["next_refresh"] > state["last_checked"]
        assert httpx.get(f"{base}/v1/articles").json()["total"] == 2

        site.routes["/rss"] = Reply(500, b"upstream broken", {"Content-Type": "text/plain"})
        seen: dict[int, dict[str, Any]] = {}

        def third_failure() -> bool:
            state = feed()
            failures = int(state["failures"])
            if failures:
                seen.setdefault(failures, state)
            return failures >= 3

        until(third_failure, why="three failed refreshes")
        waits = []
        for failures in (1, 2, 3):
            state = seen[failures]
            assert state["last_status"] == "error" and "500" in state["last_error"]
            last, nxt = (datetime.fromisoformat(state[k]) for k in ("last_checked", "next_refresh"))
            waits.append((nxt - last).total_seconds())
        # doubling per failure, give or take 10% jitter each way: 1 s, 2 s, 4 s
        assert waits[0] < waits[1] < waits[2]
        assert all(1.6 < later / earlier < 2.5 for earlier, later in itertools.pairwise(waits))

        publish(site, [1, 2, 3])  # back up: the failure count resets and the interval is back to normal
        until(lambda: feed()["articles_added"] == 3, why="the feed to recover")
        state = feed()
        assert state["failures"] == 0 and state["last_error"] is None and state["last_status"] == "ok"
        wait = (datetime.fromisoformat(state["next_refresh"]) - datetime.fromisoformat(state["last_checked"]))
        assert wait.total_seconds() < 0.6


@pytest.mark.server
def test_two_workers_on_one_data_dir_never_refresh_a_feed_at_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = settings_env(feed_interval_s=0.2, feed_poll_s=0.1, feed_jitter=0, fetch_concurrency=1, feed_lease_s=5)
    with serve() as site:
        publish(site, [1])
        slow_feed = site.routes["/rss"]
        assert isinstance(slow_feed, Reply)
        slow_feed.delay_s = 0.4  # each refresh holds the feed for a while: time enough to collide without a lease
        subscribe(data_dir, site.url("/rss"))
        with (
            process("worker", data_dir, tmp_path / "a.log", env) as (first, _),
            process("worker", data_dir, tmp_path / "b.log", env) as (second, _),
        ):
            until(lambda: len(site.hits("/rss")) >= 12, why="a dozen scheduled refreshes")
            assert first.poll() is None and second.poll() is None
        logs = [(tmp_path / name).read_text() for name in ("a.log", "b.log")]
    assert site.most_at_once["/rss"] == 1
    assert all("feed scheduler started" in log for log in logs)
    assert sum(log.count("feed 1 ") for log in logs) >= 10
    assert article_count(data_dir) == 1


@pytest.mark.server
@pytest.mark.parametrize("kind", ["serve", "worker"])
def test_sigkill_during_a_scheduled_refresh_loses_nothing_and_duplicates_nothing(kind: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    numbers = list(range(1, 9))
    env = settings_env(feed_interval_s=600, feed_poll_s=0.2, feed_lease_s=2, fetch_concurrency=1)
    with serve() as site:
        publish(site, numbers, page_delay_s=0.6, etag='"v1"')
        subscribe(data_dir, site.url("/rss"))
        with process(kind, data_dir, tmp_path / "first.log", env) as (proc, base):
            until(lambda: article_count(data_dir) >= 1, why="the first article of the scheduled refresh")
            if base:  # the refresh runs beside the API: an ask is answered meanwhile
                asked = httpx.post(f"{base}/v1/ask", json={"question": "Which town opened market hall 1?"}, timeout=60)
                assert asked.status_code == 200 and asked.json()["status"] in ("answered", "insufficient_evidence")
            until(lambda: article_count(data_dir) >= 2, why="the second article of the scheduled refresh")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        killed_with = article_count(data_dir)
        assert 2 <= killed_with < len(numbers), "the kill must land mid-refresh"
        row = feed_row(data_dir)
        assert row is not None and row["etag"] is None and row["lease_owner"] is not None  # validators not advanced

        with process(kind, data_dir, tmp_path / "second.log", env) as (_, base):

            def complete() -> bool:
                row = feed_row(data_dir)
                return row is not None and row["last_status"] == "ok"

            # the restart reconciles the killed ingest first: a wider bound than the others, on a loaded machine
            until(complete, timeout_s=180, why="the restarted process to finish the feed once the dead lease expired")
            if base:
                shown = httpx.get(f"{base}/v1/feeds").json()["items"][0]
                assert shown["items"] == len(numbers) and shown["last_status"] == "ok" and shown["failures"] == 0
                assert shown["last_checked"] and shown["next_refresh"] > shown["last_checked"]
    row = feed_row(data_dir)
    assert row is not None and row["etag"] == '"v1"' and row["lease_owner"] is None
    services = build_services(Settings(data_dir=data_dir, embedder="hashing"))
    try:
        urls = [r["url"] for r in db_rows(data_dir / "articles.sqlite3", "SELECT url FROM articles")]
        assert sorted(urls) == sorted(site.url(f"/news/{n}") for n in numbers)  # each item exactly once
        chunks = services.registry.counts()[1]
        assert services.store.count() == chunks  # no orphan or doubled vectors
        items = db_rows(data_dir / "feeds.sqlite3", "SELECT article_id FROM items")
        assert len(items) == len(numbers) and len({r["article_id"] for r in items}) == len(numbers)
    finally:
        services.close()


def test_stopping_the_app_mid_refresh_keeps_what_was_ingested_and_the_rest_comes_next_time(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    data_dir = tmp_path / "data"
    numbers = list(range(1, 6))
    settings = Settings(
        data_dir=data_dir, embedder="hashing", feed_interval_s=600, feed_poll_s=0.1, fetch_concurrency=1
    )
    with serve() as site:
        publish(site, numbers, page_delay_s=0.5, etag='"v1"')
        with TestClient(create_app(settings)) as client:
            assert client.post("/v1/feeds", json={"url": site.url("/rss")}).status_code == 201
            until(lambda: article_count(data_dir) >= 1, why="the scheduler to fetch the new feed")
        # the lifespan stopped the scheduler at its next item: the lease is released, the validators kept
        stopped_with = article_count(data_dir)
        row = feed_row(data_dir)
        assert row is not None and row["last_status"] == "interrupted" and row["lease_owner"] is None
        assert row["etag"] is None and 1 <= stopped_with < len(numbers)
        services = build_services(settings)
        manager = FeedManager(Ingestor(services))
        try:
            report = manager.refresh()
            statuses = [item.status for item in report.feeds[0].items]
            assert statuses.count("added") == len(numbers) - stopped_with
            assert services.registry.counts()[0] == len(numbers)
            assert manager.list()[0].articles_added == len(numbers)
        finally:
            manager.close()
            services.close()


def test_api_and_cli_set_a_feed_interval_and_list_the_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from api.app import create_app
    from newsdesk.cli import app as cli

    settings = Settings(data_dir=tmp_path / "api", embedder="hashing", feed_scheduler=False)
    with TestClient(create_app(settings)) as client:
        created = client.post("/v1/feeds", json={"url": "https://news.example.com/rss", "interval_s": 300})
        assert created.status_code == 201 and created.json()["interval_s"] == 300
        assert created.json()["next_refresh"] is not None  # due at once
        too_short = client.post("/v1/feeds", json={"url": "https://news.example.com/b", "interval_s": 0.5})
        assert too_short.status_code == 422 and too_short.json()["error"]["code"] == "invalid_request"
        again = client.post("/v1/feeds", json={"url": "https://news.example.com/rss", "interval_s": 60})
        assert again.json()["id"] == created.json()["id"] and again.json()["interval_s"] == 60

    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "hashing")
    runner = CliRunner()
    added = runner.invoke(cli, ["feeds", "add", "https://news.example.com/rss", "--interval", "5m"])
    assert added.exit_code == 0, added.output
    assert "every 300s" in added.stdout
    bad = runner.invoke(cli, ["feeds", "add", "https://news.example.com/x", "--interval", "5 parsecs"])
    assert bad.exit_code == 2 and "not an interval" in bad.output
    listed = runner.invoke(cli, ["feeds", "list"])
    assert listed.exit_code == 0 and "added 0, updated 0" in listed.stdout and "last never" in listed.stdout
    assert "next 20" in listed.stdout  # an ISO time: due at once
