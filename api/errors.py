"""One error shape for every endpoint: {"error": {"code": ..., "message": ...}}.

Codes: bad_request (400, a body that cannot be read), unauthorized (401), not_found (404), method_not_allowed
(405), too_large (413), invalid_request (422), rate_limited (429), internal_error (500), writer_unavailable and
database_unavailable (503).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.schemas import ErrorResponse
from rag.llm.llms import WriterUnavailable
from rag.storage.db import DatabaseUnavailable

log = logging.getLogger("newsdesk.api")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "writer_unavailable",
}
# 503 has two codes: writer_unavailable (the answer writer) and database_unavailable (NEWSDESK_DATABASE_URL down).

DESCRIPTIONS = {
    400: "The request body could not be read (not UTF-8, not JSON).",
    401: "An API key is needed (`Authorization: Bearer KEY`) or the one sent is not valid.",
    404: "No such resource.",
    413: "The request body, or the number of articles in it, is over the server's limit.",
    422: "The request does not match the schema or a limit (the message says which field).",
    429: "Too many requests from this key or client; retry after `Retry-After` seconds.",
    500: "An unexpected server error (logged with the request id; no details are returned).",
    503: "The configured answer writer, or the database (NEWSDESK_DATABASE_URL), is unreachable; retry later.",
}

INTERNAL_MESSAGE = "internal server error; quote the X-Request-ID header when reporting it"


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message}}, headers=headers
    )


def database_unavailable(exc: DatabaseUnavailable) -> JSONResponse:
    """The 503 for a database that is down or restarting: from a route, or from the rate limiter before it."""
    return error(503, "database_unavailable", str(exc), {"Retry-After": "5"})


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry for a route's error statuses, all with the one error model."""
    return {status: {"model": ErrorResponse, "description": DESCRIPTIONS[status]} for status in statuses}


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = CODES.get(exc.status_code, "http_error")
        return error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors()[:10]:
            if item.get("type") == "json_invalid":
                detail = (item.get("ctx") or {}).get("error", "invalid")
                problems.append(f"the body is not valid JSON ({detail}, at character {item['loc'][-1]})")
                continue
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        return error(422, "invalid_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(WriterUnavailable)
    async def writer_down(_: Request, exc: WriterUnavailable) -> JSONResponse:
        return error(503, "writer_unavailable", str(exc))

    @app.exception_handler(DatabaseUnavailable)
    async def database_down(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return database_unavailable(exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The observability middleware normally answers first; this covers errors raised outside it.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error(500, "internal_error", INTERNAL_MESSAGE)
