"""OpenAI-compatible chat completions: POST /v1/chat/completions and GET /v1/models.

The last user message is the question; earlier user/assistant messages are the conversation, which the client keeps
(nothing is stored here). The message content is the cited, verified answer text; the citations ride in the extra
top-level field ``citations`` and the per-sentence verdicts in ``newsdesk``. With ``stream: true`` the reply is
``chat.completion.chunk`` events ending in ``data: [DONE]``; the content is sent once verified (a model's raw,
unverified text is never sent as content). Other OpenAI parameters (temperature, max_tokens, ...) are accepted and
ignored: the server's writer settings decide.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import MetricsDep, ServicesDep, SettingsDep
from api.errors import responses
from api.limits import check_question
from api.schemas_openai import (
    ChatCompletion,
    CompletionChoice,
    CompletionMessage,
    CompletionUsage,
    NewsdeskVerdicts,
)
from api.streaming import EVENT_STREAM_DOC, data_stream, error_data
from rag.answering.chat import answer_events, drain, resolve_exchanges
from rag.answering.followup import retrieval_queries
from rag.pipeline import Services
from rag.text import split_sentences
from rag.tokens import count_tokens
from rag.types import Answer

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = "newsdesk"


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, ...: accepted, not used

    role: str
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: only the text parts count
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, ...: accepted and ignored

    model: str = MODEL_ID
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=500)
    stream: bool = False


def _invalid(message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", "messages"), "msg": message, "input": None}]
    )


def question_and_history(request: ChatCompletionRequest) -> tuple[str, list[tuple[str, str]]]:
    """The last user message, and the earlier (user message, assistant reply) pairs."""
    *earlier, last = request.messages
    if last.role != "user" or not last.text.strip():
        raise _invalid("the last message must be a non-empty user message (the question)")
    exchanges: list[tuple[str, str]] = []
    for message in earlier:
        if message.role == "user" and message.text.strip():
            exchanges.append((message.text, ""))
        elif message.role == "assistant" and exchanges and not exchanges[-1][1]:
            exchanges[-1] = (exchanges[-1][0], message.text)
    return last.text.strip(), exchanges


def answer_for(services: Services, question: str, exchanges: list[tuple[str, str]]) -> Answer:
    queries = retrieval_queries(
        question, resolve_exchanges(services, exchanges), services.retriever.known_sources()
    )
    return drain(answer_events(services, question, queries, stream_model=False))


def _extras(answer: Answer) -> dict[str, Any]:
    return {
        "citations": [c.model_dump(mode="json") for c in answer.citations],
        "newsdesk": {
            "status": answer.status,
            "sentences": [s.model_dump(mode="json") for s in answer.sentences],
        },
    }


def completion(answer: Answer, question: str) -> ChatCompletion:
    prompt_tokens, completion_tokens = count_tokens(question), count_tokens(answer.answer)
    return ChatCompletion(
        id=f"chatcmpl-{secrets.token_hex(12)}",
        created=int(time.time()),
        model=MODEL_ID,
        choices=[CompletionChoice(message=CompletionMessage(content=answer.answer))],
        usage=CompletionUsage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
        citations=answer.citations,
        newsdesk=NewsdeskVerdicts(status=answer.status, sentences=answer.sentences),
    )


def completion_chunks(
    services: Services, question: str, exchanges: list[tuple[str, str]]
) -> Iterator[dict[str, Any]]:
    base = {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return {**base, "model": MODEL_ID, "choices": [choice]}

    yield chunk({"role": "assistant", "content": ""})
    answer = answer_for(services, question, exchanges)
    # The verified text, a sentence at a time; the pieces join to exactly the answer text.
    text, sent_up_to = answer.answer, 0
    for span in split_sentences(text):
        if span.end > sent_up_to:
            yield chunk({"content": text[sent_up_to : span.end]})
            sent_up_to = span.end
    if sent_up_to < len(text):
        yield chunk({"content": text[sent_up_to:]})
    yield {**chunk({}, "stop"), **_extras(answer)}


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,  # or, with `stream: true`, its `chat.completion.chunk` stream
    responses={200: EVENT_STREAM_DOC, **responses(400, 401, 413, 422, 429, 500, 503)},
)
async def chat_completions(
    body: ChatCompletionRequest, services: ServicesDep, settings: SettingsDep, metrics: MetricsDep
) -> ChatCompletion | EventSourceResponse:
    question, exchanges = question_and_history(body)
    check_question(settings, question)
    if body.stream:
        return data_stream(
            completion_chunks(services, question, exchanges), lambda exc: {"error": error_data(exc)}
        )
    answer = await run_in_threadpool(answer_for, services, question, exchanges)
    metrics.observe_ask(answer.timings)
    return completion(answer, question)


@router.get("/models", responses=responses(401, 429, 500))
def list_models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "newsdesk"}],
    }
