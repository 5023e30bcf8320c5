"""A real uvicorn server started by `newsdesk serve` in a subprocess, driven over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.settings import PROJECT_ROOT

pytestmark = pytest.mark.server

STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(
        NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_EMBEDDER="hashing", ORT_DISABLE_TELEMETRY="1"
    )
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "newsdesk.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
                )
            try:
                if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"server not up after {STARTUP_TIMEOUT_S}s:\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.25)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


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
