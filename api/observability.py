"""Request ids, one JSON log line per request, Prometheus metrics, and the last-resort 500.

The request id is the caller's `X-Request-ID` when it is a short token of safe characters, otherwise a new one; it is
echoed in the response header and in every log line about the request. Metrics live in a registry per app (so apps
built in one process, as in tests, do not share counters) and are served at GET /metrics.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import INTERNAL_MESSAGE, error

access_log = logging.getLogger("newsdesk.access")
log = logging.getLogger("newsdesk.api")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("newsdesk_request_id", default="-")
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
ASK_STAGES = ("retrieve", "write", "verify", "total")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newsdesk_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "newsdesk_http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ask_stage = Histogram(
            "newsdesk_ask_stage_seconds",
            "Time spent in each stage of answering a question (from the answer's timings).",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ingested = Counter(
            "newsdesk_ingest_articles",
            "Articles sent to POST /v1/ingest, by outcome.",
            ["outcome"],
            registry=self.registry,
        )

    def observe_ask(self, timings: Mapping[str, float]) -> None:
        for stage in ASK_STAGES:
            value = timings.get(f"{stage}_ms")
            if value is not None:
                self.ask_stage.labels(stage=stage).observe(value / 1000.0)

    def observe_ingest(self, added: int, updated: int, unchanged: int, rejected: int) -> None:
        for outcome, count in (
            ("added", added),
            ("updated", updated),
            ("unchanged", unchanged),
            ("rejected", rejected),
        ):
            if count:
                self.ingested.labels(outcome=outcome).inc(count)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: level, logger and message, or the fields of an access record."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "newsdesk", None)
        line: dict[str, object] = {"level": record.levelname, "logger": record.name}
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
            line["request_id"] = request_id_var.get()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging() -> None:
    """Give newsdesk's loggers a JSON stderr handler at INFO when nothing else configured logging."""
    root, ours = logging.getLogger(), logging.getLogger("newsdesk")
    if root.handlers or ours.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)


class RouteTemplates:
    """Maps a request to its route's path template (bounded label values), or 'unmatched'."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._patterns = [(compile_path(t)[0], t) for t in dict.fromkeys(templates)]

    def of(self, scope: Scope) -> str:
        route = scope.get("route")  # set by the router when the request got that far
        if isinstance(getattr(route, "path", None), str):
            return str(route.path)  # type: ignore[union-attr]
        path = scope["path"]
        return next((t for pattern, t in self._patterns if pattern.match(path)), "unmatched")


class ObservabilityMiddleware:
    """Outermost of ours: request id, access log, metrics, and a 500 with the error shape for anything unhandled."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: RouteTemplates) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        request_id = sent if _SAFE_REQUEST_ID.match(sent) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log.error(
                "unhandled error on %s %s (request_id=%s)",
                scope["method"],
                scope["path"],
                request_id,
                exc_info=exc,
            )
            if response_started:
                raise
            status = 500
            response = error(500, "internal_error", INTERNAL_MESSAGE, {REQUEST_ID_HEADER: request_id})
            await response(scope, receive, send)
        finally:
            request_id_var.reset(token)
            elapsed = time.perf_counter() - started
            route = self.routes.of(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"  # bounded label values
            labels = {"method": method, "route": route, "status": str(status)}
            self.metrics.requests.labels(**labels).inc()
            self.metrics.latency.labels(**labels).observe(elapsed)
            record = {
                "event": "request",
                "method": scope["method"],
                "path": scope["path"][:500],
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "request_id": request_id,
            }
            access_log.info(json.dumps(record), extra={"newsdesk": record})
