"""A real uvicorn server started by `newsdesk serve` in a subprocess, driven over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from evals.server import ServerFailed, running_server

pytestmark = pytest.mark.server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    try:
        with running_server(
            tmp_path / "data", tmp_path / "server.log", {"NEWSDESK_EMBEDDER": "hashing"}
        ) as base:
            yield base
    except ServerFailed as exc:
        pytest.fail(str(exc))


def test_serve_ingest_and_ask_over_http(server: str, sample_articles: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=server, timeout=60.0) as http:
        health = http.get("/healthz").json()
        assert health["status"] == "ok" and health["articles"] == 0 and health["embedder"] == "hashing-256"

        ingested = http.post("/v1/ingest", json={"articles": sample_articles})
        assert ingested.status_code == 200, ingested.text
        assert ingested.json()["added"] == 16
        assert http.get("/healthz").json()["articles"] == 16

        response = http.post(
            "/v1/ask", json={"question": "Who scored the winning goal in the Coastal Cup final?"}
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["status"] == "answered"
        assert "Lindqvist" in answer["answer"]
        assert answer["citations"]
        for citation in answer["citations"]:
            article = http.get(f"/v1/articles/{citation['article_id']}").json()
            assert article["body"][citation["start"] : citation["end"]] == citation["quote"]
        for sentence in answer["sentences"]:
            assert sentence["supported"] and sentence["citations"]
            assert f"[{sentence['citations'][0]}]" in answer["answer"]

        missing = http.get("/v1/articles/nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
