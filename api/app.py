"""The FastAPI app factory; services are built once in the lifespan and shared by all requests.

Middleware, outermost first: observability (request id, access log, metrics, last-resort 500) → guard (rate limit,
API keys; before any body is read) → body size limit → FastAPI's exception handlers and routes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import errors
from api.limits import BodyLimitMiddleware, document_limits
from api.limits_db import open_rate_buckets
from api.observability import Metrics, ObservabilityMiddleware, RouteTemplates, configure_logging
from api.routes import articles, ask, chat, health, metrics, openai_compat, pages, search, sources
from api.routes import feeds as feed_routes
from api.routes import summaries as summary_routes
from api.security import GuardMiddleware, check_exposure, document_security
from ingest.feed_scheduler import FeedScheduler
from ingest.pipeline import Ingestor
from rag.pipeline import Services, build_services
from rag.settings import Settings
from rag.storage.conversations_db import open_conversations

log = logging.getLogger("newsdesk.api")


def create_app(
    settings: Settings | None = None, services_factory: Callable[[Settings], Services] | None = None
) -> FastAPI:
    """Build the app; raises ``api.security.UnsafeExposure`` for an open API on a non-loopback host."""
    settings = settings or Settings()
    check_exposure(settings)
    factory = services_factory or build_services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        if not settings.api_keys:
            log.warning(
                "newsdesk API on %s:%s is open: no API keys are set (NEWSDESK_API_KEYS), so anyone who can "
                "reach it can ingest and delete articles",
                settings.host,
                settings.port,
            )
        services = factory(settings)
        ingestor = Ingestor(services)
        orphans = ingestor.reconcile()
        if orphans:
            log.warning("removed %d orphan vectors left by an interrupted ingest", orphans)
        app.state.services = services
        app.state.ingestor = ingestor
        app.state.conversations = open_conversations(settings)
        app.state.rate_buckets = open_rate_buckets(settings)  # None: in-memory buckets (or no limit)
        # Feeds refresh in a thread of their own, so no ask waits on a feed's fetch or ingest.
        scheduler = FeedScheduler(ingestor) if settings.feed_scheduler else None
        app.state.feed_scheduler = scheduler
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:  # a refresh in progress stops at its next item; joined off the event loop
                await asyncio.to_thread(scheduler.stop)
            for shared in (app.state.rate_buckets, app.state.conversations):
                close = getattr(shared, "close", None)
                if close is not None:
                    close()
            services.close()

    app = FastAPI(
        title="newsdesk",
        version="0.1.0",
        description="Answers questions about the news; every sentence cites the passage it came from. Errors "
        'always have the shape {"error": {"code": ..., "message": ...}}.',
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    errors.install(app)
    app.include_router(health.router)
    app.include_router(ask.router)
    app.include_router(search.router)
    app.include_router(articles.router)
    app.include_router(metrics.router)
    app.include_router(feed_routes.router)
    app.include_router(sources.router)
    app.include_router(pages.router)
    app.include_router(summary_routes.router)
    app.include_router(chat.router)
    app.include_router(openai_compat.router)
    app.mount("/static", pages.static_files(), name="static")
    # add_middleware puts each one outside the previous: add innermost first.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(GuardMiddleware, settings=settings)
    templates = [
        r.path
        for m in (health, ask, search, articles, metrics, summary_routes, chat, openai_compat)
        for r in m.router.routes
    ]
    templates += [str(r.path) for r in app.routes if hasattr(r, "path")]
    templates += ["/", "/static/{path:path}"]
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics, routes=RouteTemplates(templates))

    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = base_openapi()
            document_limits(schema, settings)
            document_security(schema, settings)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    return app
