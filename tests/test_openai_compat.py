"""The OpenAI-compatible endpoints, driven by the real `openai` client against a real uvicorn server; the API key
guard with a Bearer key; and the `openai` writer's streaming against the real llama.cpp server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

# Fixtures reused from the modules that start the real servers (imported, so pytest finds them here too).
from test_openai_writer import QUESTION, articles, data_dir, llama_importable, llama_server  # noqa: F401
from test_server import server  # noqa: F401

from api.app import create_app
from rag.answering.chat import ask_events
from rag.llm.llms import parse_cited_text
from rag.llm.openai_adapter import OpenAICompletion
from rag.pipeline import build_services
from rag.settings import Settings

COUNCIL = "What did the Northfield council approve in its 7-2 vote?"
COST = "How much will it cost?"
KEY = "test-key-0123456789abcdef"


@pytest.fixture
def newsdesk(server: str, sample_articles: list[dict[str, Any]]) -> openai.OpenAI:  # noqa: F811
    ingested = httpx.post(f"{server}/v1/ingest", json={"articles": sample_articles}, timeout=60.0)
    assert ingested.status_code == 200, ingested.text
    return openai.OpenAI(base_url=f"{server}/v1", api_key="not-needed", timeout=60.0, max_retries=0)


def conversation(client: openai.OpenAI) -> list[dict[str, str]]:
    first = client.chat.completions.create(model="newsdesk", messages=[{"role": "user", "content": COUNCIL}])
    previous = first.choices[0].message.content or ""
    assert "flood wall" in previous
    return [
        {"role": "system", "content": "You are a news assistant."},
        {"role": "user", "content": COUNCIL},
        {"role": "assistant", "content": previous},
        {"role": "user", "content": COST},
    ]


@pytest.mark.server
def test_openai_client_non_stream_with_history(newsdesk: openai.OpenAI) -> None:
    assert [model.id for model in newsdesk.models.list()] == ["newsdesk"]
    reply = newsdesk.chat.completions.create(model="newsdesk", messages=conversation(newsdesk))  # type: ignore[arg-type]
    assert reply.object == "chat.completion" and reply.model == "newsdesk"
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content or ""
    assert "18.6 million" in content  # the follow-up was resolved from the history the client sent
    extra = reply.model_extra or {}
    assert extra["newsdesk"]["status"] == "answered"
    assert [s["supported"] for s in extra["newsdesk"]["sentences"]] == [True] * len(
        extra["newsdesk"]["sentences"]
    )
    cited = {c["n"] for c in extra["citations"]}
    assert cited and all(f"[{n}]" in content for n in cited)
    assert "fict-006" in {c["article_id"] for c in extra["citations"]}
    assert reply.usage is not None and reply.usage.total_tokens > 0


@pytest.mark.server
def test_openai_client_stream_matches_the_whole_reply(newsdesk: openai.OpenAI) -> None:
    messages: Any = conversation(newsdesk)
    whole = newsdesk.chat.completions.create(model="newsdesk", messages=messages)
    chunks = list(newsdesk.chat.completions.create(model="newsdesk", messages=messages, stream=True))
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert streamed == whole.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"] == (whole.model_extra or {})["citations"]
    assert (last.model_extra or {})["newsdesk"]["status"] == "answered"


@pytest.mark.server
def test_openai_client_sees_bad_requests_as_errors(newsdesk: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        newsdesk.chat.completions.create(model="newsdesk", messages=[{"role": "assistant", "content": "hi"}])
    assert caught.value.status_code == 422
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "invalid_request"
    assert "last message" in caught.value.body["message"]


def test_bearer_key_guards_chat_completions_when_reads_need_a_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", api_keys=[KEY], auth_reads=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        body = {"model": "newsdesk", "messages": [{"role": "user", "content": COST}]}
        refused = client.post("/v1/chat/completions", json=body)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        assert client.get("/v1/models").status_code == 401
        headers = {"Authorization": f"Bearer {KEY}"}
        answered = client.post("/v1/chat/completions", json=body, headers=headers)
        assert answered.status_code == 200, answered.text
        assert answered.json()["newsdesk"]["status"] == "insufficient_evidence"  # nothing ingested
        assert client.get("/v1/models", headers=headers).json()["data"][0]["id"] == "newsdesk"


def test_openapi_describes_the_completion_and_its_extra_fields(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", embedder="hashing"))) as client:
        schema = client.get("/openapi.json").json()
    reply = schema["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert reply["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatCompletion"}
    assert "text/event-stream" in reply
    fields = schema["components"]["schemas"]["ChatCompletion"]["properties"]
    assert {"id", "object", "created", "model", "choices", "usage", "citations", "newsdesk"} <= fields.keys()


@pytest.mark.llm
def test_openai_writer_streams_from_a_real_server(llama_server: str, data_dir: Path) -> None:  # noqa: F811
    completion = OpenAICompletion(llama_server, "not-needed", "smollm2", timeout_s=60.0)
    pieces = list(completion.stream("Answer briefly.", "Say hello.", 16))
    assert len(pieces) > 1 and "".join(pieces).strip()

    settings = Settings(
        data_dir=data_dir,
        embedder="hashing",
        writer="openai",
        openai_base_url=llama_server,
        openai_model="smollm2",
    )
    services = build_services(settings.model_copy(update={"retrieve_k": 3, "max_tokens": 64}))
    try:
        events = list(ask_events(services, QUESTION))
    finally:
        services.close()
    names = [event.name for event in events]
    assert names[0] == "meta" and names[-1] == "final" and "delta" in names
    raw = "".join(event.data["text"] for event in events if event.name == "delta")
    final = events[-1].data
    proposed = {sentence.text for sentence in parse_cited_text(raw)}
    assert all(sentence["text"] in proposed for sentence in final["sentences"])  # shown = verified model text
