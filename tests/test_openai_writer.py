"""The model writers for real: the `openai` writer against llama-cpp-python's OpenAI-compatible server (a subprocess
serving the packaged SmolLM2 GGUF), the in-process `local` writer, and an `openai` endpoint that is down.

SmolLM2-135M often writes nonsense: these tests assert the verifier's guarantees (every shown sentence is supported by
a citation whose quote is verbatim article text), never that the model is right.
"""

from __future__ import annotations

import copy
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from evals.server import ServerFailed, free_port, started_process
from ingest.pipeline import Ingestor
from rag.llm.llms import Completion, ModelWriter, WriterUnavailable, parse_cited_text
from rag.pipeline import Services, ask, build_services
from rag.settings import Settings
from rag.types import Answer

pytestmark = pytest.mark.llm


SERVER_STARTUP_S = 90.0
ARTICLES = ["fict-003", "fict-006", "fict-008", "fict-014"]  # flood, flood wall, cup final, mayoral election
QUESTION = "How high did the Tamsin River crest, and how many homes were evacuated?"
FAST = {"embedder": "hashing", "retrieve_k": 3, "max_tokens": 96}


@pytest.fixture(scope="module")
def llama_importable() -> None:
    """Skip (with the reason) only when llama_cpp cannot be imported. Checked in a child process: importing it here at
    collection would make every pytest run load it (and print its unclosed-/dev/null warnings at exit)."""
    probe = subprocess.run(
        [sys.executable, "-c", "import llama_cpp"], capture_output=True, text=True, timeout=60, check=False
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(
            f"llama-cpp-python is not importable ({last}): `pip install -e '.[local]'` (make install-local)"
        )


@pytest.fixture(scope="module")
def articles(sample_articles_data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    chosen = [copy.deepcopy(a) for a in sample_articles_data if a["id"] in ARTICLES]
    assert len(chosen) == len(ARTICLES)
    return chosen


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, articles: list[dict[str, Any]]) -> Path:
    """A store holding the chosen articles; each test builds its own services on it with its writer."""
    path = tmp_path_factory.mktemp("writers")
    services = build_services(Settings(data_dir=path, **FAST))  # type: ignore[arg-type]
    report = Ingestor(services).ingest(copy.deepcopy(articles))
    assert (report.added, report.rejected) == (len(ARTICLES), [])
    services.close()
    return path


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory, llama_importable: None) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port; yields its /v1 base URL."""
    from rag.llm.llama_adapter import packaged_model_path

    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(packaged_model_path()), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096", "--n_threads", "2", "--verbose", "False",
    ]  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        with started_process(
            command,
            f"{base_url}/models",
            log_path,
            startup_timeout_s=SERVER_STARTUP_S,
            name="llama_cpp.server",
        ):
            yield base_url
    except ServerFailed as exc:
        pytest.fail(f"{exc}\n(is the `server` extra installed? `pip install -e '.[local]'`)")


class Recording:
    """Wraps a completion and keeps the model's raw replies."""

    def __init__(self, inner: Completion) -> None:
        self.inner = inner
        self.name = inner.name
        self.replies: list[str] = []

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        reply = self.inner.complete(system, user, max_tokens)
        self.replies.append(reply)
        return reply


def record_model(services: Services) -> Recording:
    assert isinstance(services.writer, ModelWriter)
    recording = Recording(services.writer.completion)
    services.writer.completion = recording
    return recording


def assert_grounded(answer: Answer, services: Services, articles: list[dict[str, Any]], reply: str) -> None:
    """The verifier's guarantees, whatever the model said."""
    bodies = {a["id"]: a["body"] for a in articles}
    proposed = {s.text for s in parse_cited_text(reply)}
    citations = {c.n: c for c in answer.citations}
    assert answer.status in ("answered", "insufficient_evidence")
    assert (answer.status == "answered") == bool(answer.sentences)
    for sentence in answer.sentences:
        assert sentence.text in proposed  # shown sentences are the model's, filtered, never invented
        assert sentence.supported and sentence.support >= services.settings.min_support
        assert sentence.citations and set(sentence.citations) <= set(citations)
        for n in sentence.citations:
            # The cited chunk supports the sentence by the verifier's own measure.
            (chunk,) = services.registry.chunks_by_id([citations[n].chunk_id]).values()
            assert services.verifier.score(sentence.text, chunk.text) >= services.settings.min_support
    for citation in answer.citations:
        assert citation.quote.strip()
        assert bodies[citation.article_id][citation.start : citation.end] == citation.quote


def test_openai_writer_against_a_real_openai_compatible_server(
    llama_server: str, data_dir: Path, articles: list[dict[str, Any]]
) -> None:
    settings = Settings(
        data_dir=data_dir,
        writer="openai",
        openai_base_url=llama_server,
        openai_model="smollm2",
        openai_timeout_s=60.0,
        **FAST,  # type: ignore[arg-type]
    )
    services = build_services(settings)
    try:
        recording = record_model(services)
        answer = ask(services, QUESTION)
        assert answer.writer == "openai:smollm2"
        assert answer.prompt_id == "answer.v1"
        (reply,) = recording.replies  # one real round trip to the server
        assert reply.strip()
        assert_grounded(answer, services, articles, reply)
        assert answer.timings["write_ms"] > 0
    finally:
        services.close()


def test_local_writer_in_process(
    llama_importable: None, data_dir: Path, articles: list[dict[str, Any]]
) -> None:
    services = build_services(
        Settings(data_dir=data_dir, writer="local", local_model="smollm2-135m", **FAST)  # type: ignore[arg-type]
    )
    try:
        recording = record_model(services)
        answer = ask(services, QUESTION)
        assert answer.writer.startswith("local:SmolLM2")
        assert answer.prompt_id == "answer.v1"
        (reply,) = recording.replies
        assert reply.strip()
        assert_grounded(answer, services, articles, reply)
    finally:
        services.close()


def down_settings(data_dir: Path, port: int, retries: int = 0) -> Settings:
    return Settings(
        data_dir=data_dir,
        writer="openai",
        openai_base_url=f"http://127.0.0.1:{port}/v1",
        openai_model="smollm2",
        openai_timeout_s=2.0,
        openai_max_retries=retries,
        **FAST,  # type: ignore[arg-type]
    )


def test_down_endpoint_raises_writer_unavailable_quickly(data_dir: Path) -> None:
    port = free_port()  # nothing listens there
    services = build_services(down_settings(data_dir, port))
    try:
        started = time.monotonic()
        with pytest.raises(WriterUnavailable) as raised:
            ask(services, QUESTION)
        assert time.monotonic() - started < 5.0
    finally:
        services.close()
    message = str(raised.value)
    assert f"http://127.0.0.1:{port}/v1" in message and "smollm2" in message
    assert "Connection error" in message


def test_down_endpoint_is_a_503_through_the_api(data_dir: Path) -> None:
    port = free_port()
    with TestClient(create_app(down_settings(data_dir, port))) as client:
        response = client.post("/v1/ask", json={"question": QUESTION})
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "writer_unavailable"
    assert f"127.0.0.1:{port}" in error["message"]


def test_connection_errors_are_retried_with_backoff(data_dir: Path) -> None:
    """The openai client retries a connection that is dropped without a reply, after a backoff (>= 0.375 s)."""
    attempts: list[float] = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = int(listener.getsockname()[1])
        stop = threading.Event()

        def drop_connections() -> None:
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                attempts.append(time.monotonic())
                connection.close()

        thread = threading.Thread(target=drop_connections, daemon=True)
        thread.start()
        services = build_services(down_settings(data_dir, port, retries=2))
        try:
            with pytest.raises(WriterUnavailable, match="Connection error"):
                ask(services, QUESTION)
        finally:
            services.close()
            stop.set()
            thread.join(timeout=5)
    assert len(attempts) == 3  # the first try and max_retries=2 more
    gaps = [b - a for a, b in pairwise(attempts)]
    assert gaps[0] >= 0.375 and gaps[1] >= 0.75  # 0.5 s and 1 s, less at most 25 % jitter
