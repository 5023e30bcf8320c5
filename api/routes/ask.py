"""POST /v1/ask: a cited, verified answer, whole or as server-sent events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import MetricsDep, ServicesDep, SettingsDep
from api.errors import responses
from api.limits import check_question
from api.schemas import AskRequest, AskResponse
from api.streaming import EVENT_STREAM_DOC, event_stream
from rag.answering.chat import ask_events
from rag.pipeline import ask
from rag.types import Filters

router = APIRouter(prefix="/v1", tags=["ask"])


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={200: EVENT_STREAM_DOC, **responses(400, 401, 413, 422, 429, 500, 503)},
)
async def ask_question(
    body: AskRequest, services: ServicesDep, settings: SettingsDep, metrics: MetricsDep
) -> AskResponse | EventSourceResponse:
    check_question(settings, body.question)
    filters = Filters(**body.filters.model_dump()) if body.filters else None
    if body.stream:

        def observe(final: dict[str, Any]) -> None:
            metrics.observe_ask(final["timings"])

        return event_stream(ask_events(services, body.question, filters, body.k, body.as_of), observe)
    # Retrieval, embedding and writing are CPU-bound: run them off the event loop.
    answer = await run_in_threadpool(ask, services, body.question, filters, body.k, body.as_of)
    metrics.observe_ask(answer.timings)
    return answer
