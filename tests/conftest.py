"""Shared fixtures: fast real stores (HashingEmbedder + real Chroma + SQLite in tmp), the sample articles,
and one session-wide store built with the real packaged MiniLM model for the integration tests."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from evals.pgserver import PgServer, why_unavailable
from ingest.pipeline import Ingestor
from rag.pipeline import Services, build_services
from rag.settings import PROJECT_ROOT, Settings
from rag.types import Chunk, Passage

# Settings read NEWSDESK_* from the environment: a developer's shell must not change what the tests exercise.
for _key in [k for k in os.environ if k.startswith("NEWSDESK_")]:
    del os.environ[_key]

SAMPLES_DIR = PROJECT_ROOT / "samples" / "news"
SAMPLES_JSON = SAMPLES_DIR / "fictional_news.json"


@pytest.fixture(scope="session")
def sample_articles_data() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(SAMPLES_JSON.read_text(encoding="utf-8"))
    assert len(data) == 16
    return data


@pytest.fixture
def sample_articles(sample_articles_data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A fresh copy per test, so a test may edit records freely."""
    return copy.deepcopy(sample_articles_data)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the session (tests/pgserver.py); skipped, saying why, without its binaries."""
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(reason)
    server = PgServer()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Each back end in turn: None (SQLite files in the data dir) and a fresh PostgreSQL database's URL. A test
    module runs on both by building its settings with ``database_url=database_url``."""
    if request.param == "sqlite":
        return None
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", embedder="hashing")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def ingestor(services: Services) -> Ingestor:
    return Ingestor(services)


@pytest.fixture
def loaded(services: Services, ingestor: Ingestor, sample_articles: list[dict[str, Any]]) -> Services:
    """Fast services with the 16 sample articles ingested."""
    report = ingestor.ingest(sample_articles)
    assert (report.added, report.rejected) == (16, [])
    return services


@pytest.fixture
def make_passage() -> Callable[..., Passage]:
    """Build a Passage whose chunk is ``body`` placed at offset ``start`` of its article."""

    def make(
        body: str,
        *,
        article_id: str = "art-1",
        start: int = 0,
        title: str = "A title",
        source: str = "Test Source",
        url: str = "https://news.example.com/a",
        published_at: datetime | None = None,
        chunk_id: str | None = None,
    ) -> Passage:
        chunk = Chunk(
            id=chunk_id or f"c-{article_id}-{start}",
            article_id=article_id,
            index=0,
            text=body,
            start=start,
            end=start + len(body),
        )
        return Passage(chunk=chunk, title=title, source=source, url=url, published_at=published_at)

    return make


@pytest.fixture(scope="session")
def real_services(
    tmp_path_factory: pytest.TempPathFactory, sample_articles_data: list[dict[str, Any]]
) -> Iterator[Services]:
    """The real packaged MiniLM embedder over the 16 sample articles, built once per session."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("minilm"), embedder="minilm")
    built = build_services(settings)
    report = Ingestor(built).ingest(copy.deepcopy(sample_articles_data))
    assert (report.added, report.rejected) == (16, [])
    yield built
    built.close()


NEWS_SERVER_KEY = "test-key-for-the-news-server-0123456789"


@pytest.fixture(scope="session")
def news_server(
    tmp_path_factory: pytest.TempPathFactory, sample_articles_data: list[dict[str, Any]]
) -> Iterator[str]:
    """`newsdesk serve` (real uvicorn) over the 16 sample articles embedded with the real packaged MiniLM model;
    every request needs the key NEWS_SERVER_KEY; at most 20 articles per ingest request."""
    from evals.server import ServerFailed, running_server

    folder = tmp_path_factory.mktemp("news-server")
    env = {
        "NEWSDESK_EMBEDDER": "minilm",
        "NEWSDESK_API_KEYS": NEWS_SERVER_KEY,
        "NEWSDESK_AUTH_READS": "true",
        "NEWSDESK_RATE_LIMIT_PER_MINUTE": "0",
        "NEWSDESK_MAX_BATCH_ARTICLES": "20",
        # Feeds are refreshed by the tests' own calls, not by the server's scheduler.
        "NEWSDESK_FEED_SCHEDULER": "false",
    }
    try:
        with running_server(folder / "data", folder / "server.log", env) as base:
            ingested = httpx.post(
                f"{base}/v1/ingest",
                json={"articles": sample_articles_data},
                headers={"Authorization": f"Bearer {NEWS_SERVER_KEY}"},
                timeout=300.0,
            )
            assert ingested.status_code == 200 and ingested.json()["added"] == 16, ingested.text
            yield base
    except ServerFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def news_key() -> str:
    """The API key of ``news_server``."""
    return NEWS_SERVER_KEY
