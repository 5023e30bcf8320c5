"""POST /v1/summaries: a brief, digest or timeline whose every sentence is cited and verified."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, SettingsDep
from api.errors import responses
from api.schemas_summaries import SummaryRequestIn, SummaryResponse
from rag.summaries.summarize import SummaryRequest, UnknownArticle, summarize
from rag.types import Filters

router = APIRouter(prefix="/v1", tags=["summaries"])


@router.post(
    "/summaries",
    response_model=SummaryResponse,
    responses=responses(400, 401, 404, 413, 422, 429, 500, 503),
)
async def create_summary(
    body: SummaryRequestIn, services: ServicesDep, settings: SettingsDep
) -> SummaryResponse:
    if body.topic is not None and len(body.topic) > settings.max_question_chars:
        raise HTTPException(
            422, f"topic: at most {settings.max_question_chars} characters (got {len(body.topic)})"
        )
    request = SummaryRequest(
        kind=body.kind,
        article_ids=body.article_ids,
        topic=body.topic,
        filters=Filters(**body.filters.model_dump()) if body.filters else None,
        as_of=body.as_of,
        max_sentences=body.max_sentences,
    )
    try:
        # Embedding, writing and verifying are CPU-bound: run them off the event loop.
        return await run_in_threadpool(summarize, services, request)
    except UnknownArticle as exc:
        raise HTTPException(404, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
