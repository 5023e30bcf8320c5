"""Articles: ingest, list, read, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from api.deps import IngestorDep, ServicesDep
from api.schemas import (
    ArticleDetail,
    ArticleList,
    ArticleSummary,
    ChunkOut,
    ErrorResponse,
    IngestRequest,
    IngestResponse,
    RejectedOut,
)

router = APIRouter(prefix="/v1", tags=["articles"])


@router.post("/ingest", response_model=IngestResponse, responses={422: {"model": ErrorResponse}})
async def ingest_articles(body: IngestRequest, ingestor: IngestorDep) -> IngestResponse:
    report = await run_in_threadpool(ingestor.ingest, body.articles)
    return IngestResponse(
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=[RejectedOut(index=r.index, reason=r.reason) for r in report.rejected],
        article_ids=report.article_ids,
    )


@router.get("/articles", response_model=ArticleList)
def list_articles(
    services: ServicesDep,
    source: Annotated[list[str] | None, Query(description="Outlet name; repeat for several.")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ArticleList:
    items, total = services.registry.articles(
        sources=source or [], since=since, until=until, limit=limit, offset=offset
    )
    return ArticleList(total=total, items=[ArticleSummary.of(a) for a in items])


@router.get("/articles/{article_id}", response_model=ArticleDetail, responses={404: {"model": ErrorResponse}})
def get_article(article_id: str, services: ServicesDep) -> ArticleDetail:
    article = services.registry.article(article_id)
    if article is None:
        raise HTTPException(404, f"no article with id {article_id!r}")
    chunks = [
        ChunkOut(**c.model_dump(include=set(ChunkOut.model_fields)))
        for c in services.registry.chunks_of(article_id)
    ]
    return ArticleDetail(
        **ArticleSummary.of(article).model_dump(),
        body=article.body,
        content_hash=article.content_hash,
        chunks=chunks,
    )


@router.delete("/articles/{article_id}", status_code=204, responses={404: {"model": ErrorResponse}})
async def delete_article(article_id: str, ingestor: IngestorDep) -> Response:
    if not await run_in_threadpool(ingestor.delete, article_id):
        raise HTTPException(404, f"no article with id {article_id!r}")
    return Response(status_code=204)
