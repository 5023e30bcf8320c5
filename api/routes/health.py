"""GET /healthz."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.errors import responses
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses=responses(500, 503))
def health(services: ServicesDep) -> Health:
    articles, chunks = services.registry.counts()
    store_ok = services.store.heartbeat()
    return Health(
        status="ok" if store_ok else "degraded",
        articles=articles,
        chunks=chunks,
        embedder=services.embedder.name,
        writer=services.writer.name,
        vector_store=("chroma-server" if services.settings.chroma_url else "chroma-embedded")
        + ("" if store_ok else " (unreachable)"),
    )
