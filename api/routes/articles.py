"""Articles: ingest, list, read, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from api.deps import IngestorDep, MetricsDep, ServicesDep, SettingsDep
from api.errors import responses
from api.limits import check_batch, screen_articles
from api.schemas import (
    MAX_SOURCES,
    ArticleDetail,
    ArticleList,
    ArticleSummary,
    ChunkOut,
    IngestRequest,
    IngestResponse,
    NewsTime,
    RejectedOut,
)

router = APIRouter(prefix="/v1", tags=["articles"])
MAX_OFFSET = 1_000_000_000  # SQLite integers are 64-bit: a larger offset would be a 500, not an empty page


@router.post("/ingest", response_model=IngestResponse, responses=responses(400, 401, 413, 422, 429, 500))
async def ingest_articles(
    body: IngestRequest, ingestor: IngestorDep, settings: SettingsDep, metrics: MetricsDep
) -> IngestResponse:
    check_batch(settings, body.articles)
    report = await run_in_threadpool(ingestor.ingest, screen_articles(settings, body.articles))
    metrics.observe_ingest(report.added, report.updated, report.unchanged, len(report.rejected))
    return IngestResponse(
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=[RejectedOut(index=r.index, reason=r.reason) for r in report.rejected],
        article_ids=report.article_ids,
    )


@router.get("/articles", response_model=ArticleList, responses=responses(401, 422, 429, 500))
def list_articles(
    services: ServicesDep,
    source: Annotated[
        list[str] | None, Query(max_length=MAX_SOURCES, description="Outlet name; repeat for several.")
    ] = None,
    since: NewsTime | None = None,
    until: NewsTime | None = None,
    text: Annotated[str, Query(max_length=200, description="Words in the title or body.")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ArticleList:
    items, total = services.registry.articles(
        sources=source or [], since=since, until=until, text=text.strip(), limit=limit, offset=offset
    )
    return ArticleList(total=total, items=[ArticleSummary.of(a) for a in items])


@router.get(
    "/articles/{article_id}", response_model=ArticleDetail, responses=responses(401, 404, 422, 429, 500)
)
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


@router.delete("/articles/{article_id}", status_code=204, responses=responses(401, 404, 422, 429, 500))
async def delete_article(article_id: str, ingestor: IngestorDep) -> Response:
    if not await run_in_threadpool(ingestor.delete, article_id):
        raise HTTPException(404, f"no article with id {article_id!r}")
    return Response(status_code=204)
