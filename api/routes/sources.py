"""GET /v1/sources: the outlets in the corpus with their article counts (the web page's outlet filter)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ServicesDep
from api.errors import responses

router = APIRouter(prefix="/v1", tags=["articles"])


class SourceCount(BaseModel):
    source: str
    articles: int


class SourceList(BaseModel):
    items: list[SourceCount]


@router.get("/sources", response_model=SourceList, responses=responses(401, 429, 500))
def list_sources(services: ServicesDep) -> SourceList:
    counts = services.registry.source_counts()
    return SourceList(items=[SourceCount(source=source, articles=n) for source, n in counts])
