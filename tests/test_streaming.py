"""Server-sent events of /v1/ask and /v1/chat (docs/API.md, "Streaming"), parsed from the real HTTP stream."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.llm.llms import ModelWriter, Prompt, WriterUnavailable
from rag.pipeline import Services, build_services
from rag.settings import Settings

QUESTION = "How high did the Tamsin River crest?"
COUNCIL = "What did the Northfield council approve in its 7-2 vote?"
COST = "How much will it cost?"
# {n}: the number the prompt gives the passage that says it (whatever rank retrieval gives it).
MODEL_TEXT = (
    "The Tamsin River crested at a record 6.4 meters at the Mill Street gauge [{n}]. Pigs can fly [{n}]."
)
EVIDENCE = "crested at a record 6.4 meters at the Mill Street gauge"


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event name, decoded data) per event; comment lines (pings) are skipped."""
    events: list[tuple[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def post_stream(client: TestClient, path: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    response = client.post(path, json={**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse_sse(response.text)


def assert_event_order(events: list[tuple[str, Any]]) -> dict[str, Any]:
    """meta first, deltas before citations/sentences, each citation before the first sentence citing it, final
    last; returns the final event's data."""
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "final" and names.count("final") == 1
    assert "error" not in names
    first_verified = next((i for i, n in enumerate(names) if n in ("citation", "sentence")), len(names) - 1)
    assert all(n == "delta" for n in names[1:first_verified])
    assert "delta" not in names[first_verified:]
    announced: set[int] = set()
    indexes: list[int] = []
    for name, data in events:
        if name == "citation":
            assert data["n"] not in announced
            announced.add(data["n"])
        elif name == "sentence":
            assert set(data["citations"]) <= announced
            indexes.append(data["index"])
    assert indexes == list(range(len(indexes)))
    final: dict[str, Any] = events[-1][1]
    return final


def fresh_client(
    tmp_path: Path, articles: list[dict[str, Any]], factory: Callable[[Settings], Services]
) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path / "data", embedder="hashing"), services_factory=factory)
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    assert client.post("/v1/ingest", json={"articles": articles}).status_code == 200
    return client


@pytest.fixture
def client(tmp_path: Path, sample_articles: list[dict[str, Any]]) -> Iterator[TestClient]:
    test_client = fresh_client(tmp_path, sample_articles, build_services)
    yield test_client
    test_client.__exit__(None, None, None)


def test_ask_stream_events_match_the_plain_answer(client: TestClient) -> None:
    events = post_stream(client, "/v1/ask", {"question": QUESTION})
    final = assert_event_order(events)
    meta = events[0][1]
    assert meta == {"retrieval_queries": [QUESTION], "writer": "extractive", "prompt_id": None}

    plain = client.post("/v1/ask", json={"question": QUESTION}).json()
    for key in ("question", "answer", "status", "sentences", "citations", "writer"):
        assert final[key] == plain[key]
    assert final["status"] == "answered" and "6.4 meters" in final["answer"]
    assert [data for name, data in events if name == "citation"] == final["citations"]
    sentences = [data for name, data in events if name == "sentence"]
    assert [{k: v for k, v in s.items() if k != "index"} for s in sentences] == final["sentences"]


def test_ask_stream_without_evidence_is_meta_then_final(client: TestClient) -> None:
    events = post_stream(
        client, "/v1/ask", {"question": "What is the airspeed velocity of an unladen swallow?"}
    )
    assert [name for name, _ in events] == ["meta", "final"]
    assert events[-1][1]["status"] == "insufficient_evidence"


def test_chat_stream_continues_the_conversation(client: TestClient) -> None:
    first = post_stream(client, "/v1/chat", {"message": COUNCIL})
    final = assert_event_order(first)
    meta = first[0][1]
    assert meta["turn"] == 1 and meta["retrieval_queries"] == [COUNCIL]
    assert final["conversation_id"] == meta["conversation_id"] and final["turn"] == 1
    assert final["answer"]["question"] == COUNCIL

    second = post_stream(client, "/v1/chat", {"message": COST, "conversation_id": meta["conversation_id"]})
    final = assert_event_order(second)
    assert second[0][1]["turn"] == 2 and len(second[0][1]["retrieval_queries"]) == 2
    assert final["retrieval_queries"] == second[0][1]["retrieval_queries"]
    assert "18.6 million" in final["answer"]["answer"]

    turns = client.get(f"/v1/conversations/{meta['conversation_id']}").json()["turns"]
    assert [t["message"] for t in turns] == [COUNCIL, COST]


def test_chat_stream_with_an_unknown_conversation_is_a_plain_404(client: TestClient) -> None:
    response = client.post("/v1/chat", json={"message": COST, "conversation_id": "nope", "stream": True})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


class StreamingCompletion:
    """A small scripted model endpoint: streams its text in pieces, optionally failing part-way."""

    name = "scripted"

    def __init__(self, text: str, fail_after: int | None = None) -> None:
        self.template = text
        self.fail_after = fail_after
        self.text = ""

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        passages = re.findall(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user, re.S)
        n = next((n for n, text in passages if EVIDENCE in text), "1")
        self.text = self.template.format(n=n)
        return self.text

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        text = self.complete(system, user, max_tokens)
        pieces = [text[i : i + 12] for i in range(0, len(text), 12)]
        for n, piece in enumerate(pieces):
            if self.fail_after is not None and n == self.fail_after:
                raise WriterUnavailable("the scripted endpoint went away")
            yield piece


def with_model(completion: StreamingCompletion) -> Callable[[Settings], Services]:
    def factory(settings: Settings) -> Services:
        services = build_services(settings)
        services.writer = ModelWriter(completion, Prompt(settings.prompts_dir, "answer", 1), 64)
        return services

    return factory


def test_model_writer_streams_deltas_then_verified_sentences(
    tmp_path: Path, sample_articles: list[dict[str, Any]]
) -> None:
    completion = StreamingCompletion(MODEL_TEXT)
    client = fresh_client(tmp_path, sample_articles, with_model(completion))
    try:
        events = post_stream(client, "/v1/ask", {"question": QUESTION, "k": 3})
    finally:
        client.__exit__(None, None, None)
    final = assert_event_order(events)
    assert events[0][1]["writer"] == "scripted" and events[0][1]["prompt_id"] == "answer.v1"
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) > 1 and "".join(deltas) == completion.text
    # The deltas were raw; only the verified sentence is shown.
    assert [s["text"] for s in final["sentences"]] == [
        "The Tamsin River crested at a record 6.4 meters at the Mill Street gauge."
    ]
    assert "Pigs" not in final["answer"]


def test_a_failure_mid_stream_is_an_error_event(
    tmp_path: Path, sample_articles: list[dict[str, Any]]
) -> None:
    client = fresh_client(
        tmp_path, sample_articles, with_model(StreamingCompletion(MODEL_TEXT, fail_after=2))
    )
    try:
        events = post_stream(client, "/v1/chat", {"message": QUESTION})
        conversations = client.app.state.conversations  # type: ignore[attr-defined]
    finally:
        client.__exit__(None, None, None)
    names = [name for name, _ in events]
    assert names == ["meta", "delta", "delta", "error"]
    assert events[-1][1] == {"code": "writer_unavailable", "message": "the scripted endpoint went away"}
    # The failed turn is not kept in the conversation.
    assert conversations.get(events[0][1]["conversation_id"]).turns == []
