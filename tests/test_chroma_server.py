"""Server mode for real: a `chroma run` subprocess (the CLI of the chromadb package) and newsdesk talking to it
over HTTP (NEWSDESK_CHROMA_URL). The same guarantees as the embedded store (tests/test_ingest_pipeline.py):
re-ingest adds nothing, an update replaces every chunk, Chroma's ids are the registry's chunk ids, a delete removes
the article from the registry, Chroma and BM25 — and a second newsdesk process sharing the data dir sees it all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_ingest_pipeline import assert_consistent, keyword_articles, snapshot

from evals.server import ServerFailed, free_port, started_process
from ingest.pipeline import Ingestor
from rag.pipeline import Services, ask, build_services
from rag.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.server

COASTAL_CUP = "Who scored the winning goal in the Coastal Cup final?"


def chroma_cli() -> str:
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    assert found, "the `chroma` CLI (chromadb package) is not installed in this environment"
    return found


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real Chroma server on a free loopback port; yields (url, its persistence path)."""
    root = tmp_path_factory.mktemp("chroma-server")
    db_path = root / "db"
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    url = f"http://127.0.0.1:{port}"
    command = [chroma_cli(), "run", "--path", str(db_path), "--host", "127.0.0.1", "--port", str(port)]
    try:
        with started_process(
            command, f"{url}/api/v2/heartbeat", root / "chroma.log", env=env, cwd=root, name="chroma"
        ):
            yield url, db_path
    except ServerFailed as exc:
        pytest.fail(str(exc))


def server_settings(url: str, data_dir: Path, embedder: str = "hashing") -> Settings:
    # One collection per test: the module shares one server.
    return Settings(
        data_dir=data_dir,
        chroma_url=url,
        embedder=embedder,  # type: ignore[arg-type]
        collection=f"test_{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture
def remote(chroma_server: tuple[str, Path], tmp_path: Path) -> Iterator[Services]:
    built = build_services(server_settings(chroma_server[0], tmp_path / "data"))
    yield built
    built.close()


def test_the_store_is_the_server(remote: Services, chroma_server: tuple[str, Path]) -> None:
    assert remote.store.heartbeat()
    assert not remote.settings.chroma_dir.exists()  # nothing embedded under the data dir
    assert chroma_server[1].is_dir()  # the server persists under its own --path
    # The server itself lists newsdesk's collection (asked over its REST API, not through chromadb).
    listed = httpx.get(
        f"{chroma_server[0]}/api/v2/tenants/default_tenant/databases/default_database/collections", timeout=10
    )
    assert listed.status_code == 200, listed.text
    assert remote.settings.collection in {c["name"] for c in listed.json()}


def test_ingest_reingest_update_delete(
    remote: Services, sample_articles: list[dict[str, Any]], chroma_server: tuple[str, Path]
) -> None:
    ingestor = Ingestor(remote)
    first = ingestor.ingest(sample_articles)
    assert (first.added, first.updated, first.unchanged, first.rejected) == (16, 0, 0, [])
    articles, chunks = remote.registry.counts()
    assert articles == 16 and chunks == first.chunks_written == remote.store.count() > 16
    assert_consistent(remote)

    # Re-ingest, in this process and in a fresh one (new client, new registry connection): nothing changes.
    before = snapshot(remote)
    again = ingestor.ingest(sample_articles)
    assert (again.added, again.updated, again.unchanged, again.chunks_written) == (0, 0, 16, 0)
    assert snapshot(remote) == before
    reopened = build_services(remote.settings)
    try:
        assert Ingestor(reopened).reconcile() == 0
        assert Ingestor(reopened).ingest(sample_articles).unchanged == 16
        assert snapshot(reopened) == before
    finally:
        reopened.close()

    # An update replaces every chunk of the article, in the registry, the server and BM25.
    old_ids = set(remote.registry.chunk_ids("fict-003"))
    edited = dict(sample_articles[2])
    edited["body"] = edited["body"] + "\n\nCorrection: an earlier version misstated the crest."
    updated = ingestor.ingest([edited])
    assert (updated.added, updated.updated) == (0, 1)
    new_ids = set(remote.registry.chunk_ids("fict-003"))
    assert new_ids and not new_ids & old_ids
    assert not old_ids & remote.store.all_ids()
    assert new_ids <= remote.store.all_ids()
    assert_consistent(remote)
    assert "fict-003" in keyword_articles(remote, "misstated correction crest")

    # A delete removes it from the registry, the server and BM25; retrieval no longer returns it.
    assert "fict-008" in keyword_articles(remote, "Lindqvist 112th minute")
    gone = set(remote.registry.chunk_ids("fict-008"))
    assert ingestor.delete("fict-008") is True
    assert remote.registry.article("fict-008") is None
    assert not gone & remote.store.all_ids()
    assert_consistent(remote)
    assert "fict-008" not in keyword_articles(remote, "Lindqvist 112th minute")
    passages = remote.retriever.search(COASTAL_CUP, 20)
    assert passages and all(p.chunk.article_id != "fict-008" for p in passages)

    # Orphans written to the server (an interrupted ingest) are never shown and reconcile removes them.
    text = "Kofi Lindqvist scored the winning goal in the Coastal Cup final."
    remote.store.upsert(["c_orphan"], remote.embedder.embed([text]), [text], [{"article_id": "gone"}])
    assert all(p.chunk.id != "c_orphan" for p in remote.retriever.search(text, 10))
    assert Ingestor(remote).reconcile() == 1
    assert_consistent(remote)


def test_ask_against_the_server(remote: Services, sample_articles: list[dict[str, Any]]) -> None:
    Ingestor(remote).ingest(sample_articles)
    answer = ask(remote, COASTAL_CUP)
    assert answer.status == "answered" and "Lindqvist" in answer.answer
    assert "fict-008" in {c.article_id for c in answer.citations}
    for citation in answer.citations:
        article = remote.registry.article(citation.article_id)
        assert article is not None and article.body[citation.start : citation.end] == citation.quote


def cli_ask(settings: Settings, question: str) -> dict[str, Any]:
    """`newsdesk ask --json` in a separate process sharing the data dir and the Chroma server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(
        NEWSDESK_DATA_DIR=str(settings.data_dir),
        NEWSDESK_CHROMA_URL=str(settings.chroma_url),
        NEWSDESK_COLLECTION=settings.collection,
        NEWSDESK_EMBEDDER=settings.embedder,
        ORT_DISABLE_TELEMETRY="1",
        ANONYMIZED_TELEMETRY="False",
    )
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk.cli", "ask", "--json", question],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_second_process_sees_writes_through_the_shared_registry(
    remote: Services, sample_articles: list[dict[str, Any]]
) -> None:
    """Each process keeps its own BM25, rebuilt from the shared registry when its generation changes."""
    Ingestor(remote).ingest(sample_articles)
    other = cli_ask(remote.settings, COASTAL_CUP)
    assert other["status"] == "answered" and "fict-008" in {c["article_id"] for c in other["citations"]}

    assert Ingestor(remote).delete("fict-008")
    after = cli_ask(remote.settings, COASTAL_CUP)
    assert "fict-008" not in {c["article_id"] for c in after["citations"]}


@pytest.mark.integration
def test_real_minilm_against_the_server(
    chroma_server: tuple[str, Path], tmp_path: Path, sample_articles: list[dict[str, Any]]
) -> None:
    services = build_services(server_settings(chroma_server[0], tmp_path / "data", embedder="minilm"))
    try:
        report = Ingestor(services).ingest(sample_articles)
        assert report.added == 16
        assert_consistent(services)
        answer = ask(services, "How high did the Tamsin River crest?")
        assert answer.status == "answered"
        assert "fict-003" in {c.article_id for c in answer.citations}
        dense = services.store.query(services.embedder.embed(["Tamsin River crest flood"])[0], 5)
        assert dense and services.registry.chunks_by_id([dense[0].chunk_id])
    finally:
        services.close()
