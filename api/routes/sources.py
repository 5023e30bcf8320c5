"""GET /v1/sources: the outlets in the corpus with their article counts (the web page's outlet filter)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.errors import responses
from api.schemas import SourceCount, SourceList

router = APIRouter(prefix="/v1", tags=["articles"])


@router.get("/sources", response_model=SourceList, responses=responses(401, 429, 500))
def list_sources(services: ServicesDep) -> SourceList:
    counts = services.registry.source_counts()
    return SourceList(items=[SourceCount(source=source, articles=n) for source, n in counts])
