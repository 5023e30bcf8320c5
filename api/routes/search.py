"""POST /v1/search: the passages hybrid retrieval finds for a query, without writing an answer (for retrievers,
e.g. the LangChain ``NewsdeskRetriever``, and the MCP ``search_news`` tool)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, SettingsDep
from api.errors import responses
from api.limits import check_question
from api.schemas_search import SearchRequest, SearchResponse
from rag.types import Filters

router = APIRouter(prefix="/v1", tags=["ask"])


@router.post("/search", response_model=SearchResponse, responses=responses(400, 401, 413, 422, 429, 500))
async def search_passages(
    body: SearchRequest, services: ServicesDep, settings: SettingsDep
) -> SearchResponse:
    check_question(settings, body.query, "query")
    filters = Filters(**body.filters.model_dump()) if body.filters else None
    k = body.k or settings.retrieve_k
    # Embedding the query and ranking are CPU-bound: run them off the event loop.
    passages = await run_in_threadpool(services.retriever.search, body.query.strip(), k, filters, body.as_of)
    return SearchResponse(query=body.query, passages=passages)
