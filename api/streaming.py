"""Server-sent events for ask and chat (docs/API.md, "Streaming"), over sse-starlette.

The event generators in rag/answering/chat.py are synchronous and CPU-bound (retrieval, embedding, writing,
verifying): each step runs in the thread pool so the event loop keeps serving other requests. A failure after the
stream has started cannot change the status code any more, so it becomes an ``error`` event with the one error
shape's code and message.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.errors import INTERNAL_MESSAGE
from rag.answering.chat import Event
from rag.llm.llms import WriterUnavailable
from rag.storage.conversations import ConversationNotFound

log = logging.getLogger("newsdesk.api")

PING_S = 15  # a comment line now and then keeps proxies from closing a stream that waits on a slow model
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# For a route's OpenAPI `responses`: its 200 may also be an event stream.
EVENT_STREAM_DOC = {
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
    "description": "The reply as JSON, or with `stream: true` as server-sent events (docs/API.md, Streaming).",
}


def error_data(exc: Exception) -> dict[str, str]:
    """The one error shape's code and message for a failure inside a stream."""
    if isinstance(exc, WriterUnavailable):
        return {"code": "writer_unavailable", "message": str(exc)}
    if isinstance(exc, ConversationNotFound):
        return {"code": "not_found", "message": str(exc)}
    if isinstance(exc, ValueError):
        return {"code": "invalid_request", "message": str(exc)}
    log.error("unhandled error in an event stream", exc_info=exc)
    return {"code": "internal_error", "message": INTERNAL_MESSAGE}


async def in_threadpool(events: Iterator[Any]) -> AsyncIterator[Any]:
    """Each step of a sync generator in the thread pool; the generator is closed however the stream ends."""
    try:
        async for item in iterate_in_threadpool(events):
            yield item
    finally:
        close = getattr(events, "close", None)
        # Runs the generator's cleanup (a model lock, an open HTTP response) when the client went away; a
        # generator still running in its worker thread (ValueError) finishes there and is collected afterwards.
        if close is not None:
            with contextlib.suppress(ValueError):
                await run_in_threadpool(close)


def event_stream(
    events: Iterator[Event], on_final: Callable[[dict[str, Any]], None] | None = None
) -> EventSourceResponse:
    """An SSE response of newsdesk events; ``on_final`` sees the final event's data (for metrics)."""

    async def generate() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in in_threadpool(events):
                if event.name == "final" and on_final is not None:
                    on_final(event.data)
                yield ServerSentEvent(data=json.dumps(event.data), event=event.name)
        except Exception as exc:
            yield ServerSentEvent(data=json.dumps(error_data(exc)), event="error")

    return EventSourceResponse(generate(), ping=PING_S, headers=HEADERS, sep="\n")


def data_stream(
    chunks: Iterator[dict[str, Any]], on_error: Callable[[Exception], dict[str, Any]]
) -> EventSourceResponse:
    """An SSE response of bare ``data:`` lines ending in ``data: [DONE]`` (the OpenAI streaming format)."""

    async def generate() -> AsyncIterator[ServerSentEvent]:
        try:
            async for chunk in in_threadpool(chunks):
                yield ServerSentEvent(data=json.dumps(chunk))
        except Exception as exc:
            yield ServerSentEvent(data=json.dumps(on_error(exc)))
        yield ServerSentEvent(data="[DONE]")

    return EventSourceResponse(generate(), ping=PING_S, headers=HEADERS, sep="\n")
