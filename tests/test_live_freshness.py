"""Fresh in every process: three real `newsdesk serve` processes share one data dir and a real Chroma server. An
article ingested, updated or deleted through one is answered (or no longer answered) by the others within seconds,
with no restart: one reads by keyword only, one by dense vectors only, so each half is seen on its own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_chroma_server import chroma_server  # noqa: F401  (the module-scoped Chroma server fixture)

from evals.server import ServerFailed, running_server

pytestmark = pytest.mark.server

QUESTION = "What colour did the Quarlbeck harbour authority paint the Ostrava lighthouse?"
DEADLINE_S = 60.0  # generous: the bound is 2 s, measured and printed, not asserted


def lighthouse(colour: str) -> dict[str, Any]:
    return {
        "id": "fict-live-001",
        "title": "Quarlbeck harbour authority repaints the Ostrava lighthouse",
        "source": "The Harbor Ledger",
        "published_at": "2026-11-30T09:00:00+00:00",
        "body": (
            f"The Quarlbeck harbour authority painted the Ostrava lighthouse {colour} on Monday, ending a "
            "month of scaffolding on the breakwater. Harbour master Ilse Varga said the new coat would last "
            "a decade. (Fictional article written for newsdesk's tests.)"
        ),
    }


@pytest.fixture
def servers(chroma_server: tuple[str, Path], tmp_path: Path) -> Iterator[dict[str, str]]:  # noqa: F811
    shared = {
        "NEWSDESK_EMBEDDER": "hashing",
        "NEWSDESK_CHROMA_URL": chroma_server[0],
        "NEWSDESK_COLLECTION": f"live_{uuid.uuid4().hex[:12]}",
    }
    roles = {"writer": "hybrid", "keyword": "keyword", "dense": "dense"}
    try:
        with ExitStack() as stack:
            bases = {
                role: stack.enter_context(
                    running_server(
                        tmp_path / "data",
                        tmp_path / f"{role}.log",
                        {**shared, "NEWSDESK_RETRIEVAL_MODE": mode},
                    )
                )
                for role, mode in roles.items()
            }
            yield bases
    except ServerFailed as exc:
        pytest.fail(str(exc))


def cites(base: str, article_id: str, word: str) -> bool:
    """Whether the server answers QUESTION from the article, with ``word`` in the answer."""
    response = httpx.post(f"{base}/v1/ask", json={"question": QUESTION}, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    return word in answer["answer"] and any(c["article_id"] == article_id for c in answer["citations"])


def wait_until(condition: Any, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < DEADLINE_S, f"not {what} after {DEADLINE_S:.0f}s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_write_through_one_process_is_answered_by_the_others(
    servers: dict[str, str], sample_articles: list[dict[str, Any]]
) -> None:
    writer, readers = servers["writer"], [servers["keyword"], servers["dense"]]
    with httpx.Client(base_url=writer, timeout=60) as http:
        assert http.post("/v1/ingest", json={"articles": sample_articles}).json()["added"] == 16
        for base in readers:  # the readers have answered before: their searchers are open and warm
            assert not cites(base, "fict-live-001", "teal")

        assert http.post("/v1/ingest", json={"articles": [lighthouse("teal")]}).json()["added"] == 1
        for base in readers:
            seconds = wait_until(lambda b=base: cites(b, "fict-live-001", "teal"), f"added at {base}")
            print(f"added: {base} answered from it after {seconds:.2f}s")

        assert http.post("/v1/ingest", json={"articles": [lighthouse("crimson")]}).json()["updated"] == 1
        for base in readers:
            seconds = wait_until(lambda b=base: cites(b, "fict-live-001", "crimson"), f"updated at {base}")
            print(f"updated: {base} answered from the new version after {seconds:.2f}s")
            # Once the new version answers, the old one never does again.
            assert not any(cites(base, "fict-live-001", "teal") for _ in range(5))

        assert http.delete("/v1/articles/fict-live-001").status_code == 204
        for base in readers:
            seconds = wait_until(
                lambda b=base: not cites(b, "fict-live-001", "crimson"), f"deleted at {base}"
            )
            print(f"deleted: {base} stopped answering from it after {seconds:.2f}s")
            assert httpx.get(f"{base}/v1/articles/fict-live-001").status_code == 404
