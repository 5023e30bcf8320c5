"""POST /v1/ask: a cited, verified answer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.schemas import AskRequest, AskResponse, ErrorResponse
from rag.pipeline import ask
from rag.types import Filters

router = APIRouter(prefix="/v1", tags=["ask"])


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
async def ask_question(body: AskRequest, services: ServicesDep) -> AskResponse:
    filters = Filters(**body.filters.model_dump()) if body.filters else None
    # Retrieval, embedding and writing are CPU-bound: run them off the event loop.
    return await run_in_threadpool(ask, services, body.question, filters, body.k, body.as_of)
