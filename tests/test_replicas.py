"""Past one machine, for real: two `newsdesk serve` replicas (own data dirs, as on two hosts) and a `newsdesk
worker`, sharing one PostgreSQL (NEWSDESK_DATABASE_URL) and one `chroma run` server (NEWSDESK_CHROMA_URL).

A write through one replica is answered by the other; a chat continues across them; one rate limit holds across
them; a replica SIGKILLed mid-ingest leaves nothing a rerun does not make exact; two replicas ingesting one article
at once store one version; a PostgreSQL restart is a 503 while it lasts and heals by itself. The commands are the
ones in the README's deployment section."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from localhttp import Reply, html_page, serve
from test_chroma_server import chroma_cli

from evals.pgserver import PgServer, why_unavailable
from evals.server import ServerFailed, free_port, started_process
from ingest.articles import to_article
from rag.pipeline import Services, build_services
from rag.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.server, pytest.mark.postgres]

# One key per test, so each test has its own rate-limit bucket (the limit is per key).
KEYS = {
    name: f"replica-test-{name}-0123456789abcdef"
    for name in ("ingest", "chat", "limit", "kill", "race", "pg", "feed")
}
RATE_PER_MINUTE = 20
COASTAL_CUP = "Who scored the winning goal in the Coastal Cup final?"


@dataclass
class Cluster:
    root: Path
    pg: PgServer
    env: dict[str, str]
    replicas: list[str] = field(default_factory=list)

    def settings(self) -> Settings:
        """What a replica runs with, for looking at the shared state from the test."""
        return Settings(
            data_dir=self.root / f"probe-{uuid.uuid4().hex[:6]}",
            database_url=self.env["NEWSDESK_DATABASE_URL"],
            chroma_url=self.env["NEWSDESK_CHROMA_URL"],
            collection=self.env["NEWSDESK_COLLECTION"],
            embedder="hashing",
        )


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


@contextmanager
def replica(cluster: Cluster, name: str, **extra: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`newsdesk serve --no-scheduler` with its own data dir (another host's disk); yields (base URL, process)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(cluster.env, NEWSDESK_DATA_DIR=str(cluster.root / name), **extra)
    command = [sys.executable, "-m", "newsdesk.cli", "serve", "--no-scheduler", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with started_process(
        command, f"{base}/healthz", cluster.root / f"{name}.log", env=env, cwd=PROJECT_ROOT, name=name
    ) as process:
        yield base, process


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("replicas")
    pg = PgServer()
    chroma_port = free_port()
    env = {
        "NEWSDESK_DATABASE_URL": pg.new_database(),
        "NEWSDESK_CHROMA_URL": f"http://127.0.0.1:{chroma_port}",
        "NEWSDESK_COLLECTION": "replicas",
        "NEWSDESK_EMBEDDER": "hashing",
        "NEWSDESK_API_KEYS": ",".join(KEYS.values()),
        "NEWSDESK_RATE_LIMIT_PER_MINUTE": str(RATE_PER_MINUTE),
        "ORT_DISABLE_TELEMETRY": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    chroma = [chroma_cli(), "run", "--path", str(root / "chroma"), "--host", "127.0.0.1", "--port", str(chroma_port)]
    try:
        with ExitStack() as stack:
            stack.enter_context(
                started_process(
                    chroma, f"{env['NEWSDESK_CHROMA_URL']}/api/v2/heartbeat", root / "chroma.log",
                    env={**os.environ, "ANONYMIZED_TELEMETRY": "False"}, cwd=root, name="chroma",
                )
            )  # fmt: skip
            built = Cluster(root, pg, env)
            # B retrieves by keyword only: what it finds comes from its own tantivy index following the registry.
            for name, mode in (("a", "hybrid"), ("b", "keyword")):
                base, _ = stack.enter_context(replica(built, name, NEWSDESK_RETRIEVAL_MODE=mode))
                built.replicas.append(base)
            yield built
    except ServerFailed as exc:
        pytest.fail(str(exc))
    finally:
        pg.close()


@pytest.fixture(scope="module")
def probe(cluster: Cluster) -> Iterator[Services]:
    services = build_services(cluster.settings())
    yield services
    services.close()


def articles(prefix: str, n: int, words: int = 400) -> list[dict[str, Any]]:
    vocabulary = ["harbour", "council", "ferry", "bridge", "budget", "river", "storm", "market", "school", "mayor"]
    return [
        {
            "id": f"{prefix}-{i}",
            "title": f"{prefix} report {i}",
            "source": "Replica Wire",
            "published_at": "2026-03-01T09:00:00Z",
            "body": " ".join(f"{vocabulary[(i * 7 + j) % len(vocabulary)]}{j % 97}" for j in range(words)) + ".",
        }
        for i in range(n)
    ]


def test_an_article_ingested_through_a_is_answered_by_b(
    cluster: Cluster, sample_articles: list[dict[str, Any]]
) -> None:
    a, b = cluster.replicas
    ingested = httpx.post(f"{a}/v1/ingest", json={"articles": sample_articles}, headers=auth("ingest"), timeout=120)
    assert ingested.status_code == 200, ingested.text
    assert ingested.json()["added"] + ingested.json()["unchanged"] == 16  # unchanged: another test ingested them
    # B searches by keyword only, in its own index: the first search after A's write applies it from the registry.
    found = httpx.post(f"{b}/v1/search", json={"query": "Coastal Cup final"}, headers=auth("ingest"), timeout=60)
    assert found.status_code == 200, found.text
    assert "Coastal Cup" in found.json()["passages"][0]["title"], found.json()
    answer = httpx.post(f"{b}/v1/ask", json={"question": COASTAL_CUP}, headers=auth("ingest"), timeout=60).json()
    assert answer["status"] == "answered", answer
    assert "Coastal Cup" in answer["citations"][0]["title"]
    listed = httpx.get(f"{b}/v1/articles", params={"limit": 1}, headers=auth("ingest"), timeout=30).json()
    assert listed["total"] == 16


def test_a_chat_started_on_a_continues_on_b(cluster: Cluster) -> None:
    a, b = cluster.replicas
    first = httpx.post(f"{a}/v1/chat", json={"message": COASTAL_CUP}, headers=auth("chat"), timeout=60)
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    second = httpx.post(
        f"{b}/v1/chat",
        json={"message": "And who did they beat?", "conversation_id": conversation},
        headers=auth("chat"),
        timeout=60,
    )
    assert second.status_code == 200, second.text
    assert second.json()["turn"] == 2
    history = httpx.get(f"{a}/v1/conversations/{conversation}", headers=auth("chat"), timeout=30).json()
    assert [t["turn"] for t in history["turns"]] == [1, 2]
    assert httpx.delete(f"{b}/v1/conversations/{conversation}", headers=auth("chat"), timeout=30).status_code == 204
    assert httpx.get(f"{a}/v1/conversations/{conversation}", headers=auth("chat"), timeout=30).status_code == 404


def test_one_rate_limit_holds_across_replicas(cluster: Cluster) -> None:
    replicas = cluster.replicas
    statuses: dict[str, list[int]] = {base: [] for base in replicas}
    for i in range(30):  # 15 per replica: under the limit of each alone, over the limit of both together
        base = replicas[i % 2]
        statuses[base].append(httpx.get(f"{base}/v1/sources", headers=auth("limit"), timeout=30).status_code)
    allowed = sum(s == 200 for codes in statuses.values() for s in codes)
    assert RATE_PER_MINUTE <= allowed < 30, statuses
    assert all(429 in codes for codes in statuses.values()), statuses  # each replica refused some


def count(probe: Services, sql: str, *params: Any) -> int:
    row = probe.registry.db.query_one(sql, params)
    return int(row[0]) if row is not None else 0


def assert_exactly(probe: Services, records: list[dict[str, Any]]) -> None:
    """The registry holds these articles with exactly their chunks, and Chroma exactly the registry's chunks."""
    for article in (to_article(r) for r in records):
        wanted = {c.id for c in probe.chunker.split(article.id, article.content_hash, article.body)}
        assert set(probe.registry.chunk_ids(article.id)) == wanted
    registry_ids = probe.registry.all_chunk_ids()
    assert probe.store.all_ids() == registry_ids  # no orphan vectors, none missing
    assert probe.store.count() == len(registry_ids)  # no duplicates


def test_a_replica_killed_mid_ingest_then_a_rerun_leaves_exact_counts(cluster: Cluster, probe: Services) -> None:
    batch = articles("kill", 300)
    like = "SELECT COUNT(*) FROM articles WHERE id LIKE 'kill-%'"

    def send(base: str) -> None:
        with contextlib.suppress(httpx.TransportError):  # the replica dies under it
            httpx.post(f"{base}/v1/ingest", json={"articles": batch}, headers=auth("kill"), timeout=300)

    with replica(cluster, "c") as (c, process):
        sender = threading.Thread(target=send, args=(c,), daemon=True)
        sender.start()
        while count(probe, like) == 0 and sender.is_alive():
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    sender.join(timeout=60)
    written = count(probe, like)
    assert 0 < written < len(batch), "the ingest was not killed midway; make the batch bigger"
    # The rerun: the replica starts again (removing the orphan vectors it left) and the same batch is sent again.
    with replica(cluster, "c") as (c, _):
        reply = httpx.post(f"{c}/v1/ingest", json={"articles": batch}, headers=auth("kill"), timeout=300)
    assert reply.status_code == 200, reply.text
    assert reply.json()["added"] + reply.json()["unchanged"] == len(batch)
    assert reply.json()["unchanged"] == written  # what was committed before the kill is not written again
    assert count(probe, like) == len(batch)
    assert count(probe, "SELECT COUNT(*) FROM article_changes WHERE article_id LIKE 'kill-%'") == len(batch)
    assert_exactly(probe, batch)


def test_two_replicas_ingesting_the_same_articles_at_once_store_one_version(
    cluster: Cluster, probe: Services
) -> None:
    batch = articles("race", 8, words=150)

    def send(base: str) -> dict[str, Any]:
        reply = httpx.post(f"{base}/v1/ingest", json={"articles": batch}, headers=auth("race"), timeout=120)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(send, cluster.replicas))
    assert sum(r["added"] for r in replies) == len(batch)  # each article written by one replica
    assert sum(r["unchanged"] for r in replies) == len(batch)  # and found already there by the other
    assert count(probe, "SELECT COUNT(*) FROM article_changes WHERE article_id LIKE 'race-%'") == len(batch)
    assert_exactly(probe, batch)


def test_a_feed_added_through_a_is_refreshed_by_the_worker_and_answered_by_b(
    cluster: Cluster, probe: Services
) -> None:
    a, b = cluster.replicas
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(cluster.env, NEWSDESK_DATA_DIR=str(cluster.root / "worker"), NEWSDESK_FEED_POLL_S="0.5")
    title, body = "Lighthouse keeper retires", "The Exampleton lighthouse keeper Oren Vale retired on Friday " * 3
    with serve() as site, (cluster.root / "worker.log").open("wb") as log:
        site.routes["/story"] = Reply(body=html_page(title, body).encode(), headers={"Content-Type": "text/html"})
        item = f"<item><title>{title}</title><link>{site.url('/story')}</link><guid>lighthouse</guid></item>"
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Coast Wire</title>{item}</channel></rss>'
        site.routes["/rss"] = Reply(body=feed.encode(), headers={"Content-Type": "application/rss+xml"})
        added = httpx.post(f"{a}/v1/feeds", json={"url": site.url("/rss")}, headers=auth("feed"), timeout=30)
        assert added.status_code == 201, added.text
        worker = subprocess.Popen(
            [sys.executable, "-m", "newsdesk.cli", "worker"], env=env, cwd=PROJECT_ROOT, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 90
            done = "SELECT COUNT(*) FROM feeds WHERE articles_added = 1 AND last_status = 'ok'"
            while count(probe, done) == 0:
                assert worker.poll() is None, (cluster.root / "worker.log").read_text()[-3000:]
                assert time.monotonic() < deadline, (cluster.root / "worker.log").read_text()[-3000:]
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    found = httpx.post(f"{b}/v1/search", json={"query": "lighthouse keeper"}, headers=auth("feed"), timeout=60)
    assert found.status_code == 200 and found.json()["passages"][0]["title"] == title, found.text


def test_postgres_restarted_under_load_is_a_503_then_recovers_by_itself(
    cluster: Cluster, sample_articles: list[dict[str, Any]]
) -> None:
    a, b = cluster.replicas
    # The articles the asks below need (already there when the first test ran: then they are unchanged).
    ingested = httpx.post(f"{a}/v1/ingest", json={"articles": sample_articles}, headers=auth("pg"), timeout=120)
    assert ingested.status_code == 200, ingested.text
    stop = threading.Event()
    seen: dict[str, list[tuple[int, str]]] = {a: [], b: []}

    def load(base: str) -> None:  # health checks read the registry and are not rate limited
        while not stop.is_set():
            reply = httpx.get(f"{base}/healthz", timeout=30)
            code = reply.json().get("error", {}).get("code", "") if reply.status_code != 200 else ""
            seen[base].append((reply.status_code, code))
            time.sleep(0.05)

    threads = [threading.Thread(target=load, args=(base,), daemon=True) for base in (a, b)]
    for thread in threads:
        thread.start()
    try:
        cluster.pg.stop("fast")
        try:
            down = httpx.post(f"{a}/v1/ask", json={"question": COASTAL_CUP}, headers=auth("pg"), timeout=60)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "database_unavailable"
            assert "unavailable" in down.json()["error"]["message"]
        finally:
            cluster.pg.start()
        deadline = time.monotonic() + 60
        for base in (a, b):
            while httpx.get(f"{base}/v1/sources", headers=auth("pg"), timeout=30).status_code != 200:
                assert time.monotonic() < deadline, f"{base} did not recover after PostgreSQL came back"
                time.sleep(3.5)  # one request per refill of this key's bucket
        back = httpx.post(f"{b}/v1/ask", json={"question": COASTAL_CUP}, headers=auth("pg"), timeout=60)
        assert back.status_code == 200 and back.json()["status"] == "answered", back.text
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    for base, statuses in seen.items():
        assert set(statuses) <= {(200, ""), (503, "database_unavailable")}, (base, set(statuses))
        assert (503, "database_unavailable") in statuses, base
