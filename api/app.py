"""The FastAPI app factory; services are built once in the lifespan and shared by all requests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from api import errors
from api.routes import articles, ask, health
from ingest.pipeline import Ingestor
from rag.pipeline import Services, build_services
from rag.settings import Settings

log = logging.getLogger("newsdesk.api")

INDEX_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>newsdesk</title></head>
<body><h1>newsdesk</h1><p>Grounded news Q&amp;A. See the <a href="/docs">API docs</a>; ask with
<code>POST /v1/ask</code>.</p></body></html>"""


def create_app(
    settings: Settings | None = None, services_factory: Callable[[Settings], Services] | None = None
) -> FastAPI:
    settings = settings or Settings()
    factory = services_factory or build_services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = factory(settings)
        ingestor = Ingestor(services)
        orphans = ingestor.reconcile()
        if orphans:
            log.warning("removed %d orphan vectors left by an interrupted ingest", orphans)
        app.state.services = services
        app.state.ingestor = ingestor
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="newsdesk",
        version="0.1.0",
        description="Answers questions about the news; every sentence cites the passage it came from.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(ask.router)
    app.include_router(articles.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return INDEX_HTML

    return app
