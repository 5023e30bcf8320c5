"""Request limits: body size, articles per ingest, article size, question length, and the rate-limit buckets.

Every limit is a setting and every rejection is a 4xx with the standard error shape:
- body bytes (`max_body_bytes`): 413, by Content-Length before reading and by counting a streamed body;
- articles per ingest request (`max_batch_articles`): 413 for the whole request (split the batch);
- article body characters (`max_article_chars`): that article alone is rejected (`rejected[{index, reason}]`),
  the rest of the batch is ingested, as for any other invalid article;
- question characters (`max_question_chars`): 422.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error
from ingest.loaders import Record
from rag.settings import Settings

MAX_TRACKED_CLIENTS = 10_000


class TokenBuckets:
    """In-memory token buckets, one per client: `capacity` requests at once, refilled at `refill_per_s`."""

    def __init__(
        self,
        capacity: float,
        refill_per_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_TRACKED_CLIENTS,
    ) -> None:
        self.capacity = capacity
        self.refill_per_s = refill_per_s
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, name: str) -> float:
        """Take a token: 0.0 when the request may go ahead, else the seconds until a token is free."""
        with self._lock:
            now = self._clock()
            tokens, counted = self._buckets.get(name, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - counted) * self.refill_per_s)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, now)
                allowed = True
            else:
                self._buckets[name] = (tokens, now)
                allowed = False
            if len(self._buckets) > self._max_clients:
                self._prune(now)
            return 0.0 if allowed else (1.0 - tokens) / self.refill_per_s

    def _prune(self, now: float) -> None:
        # A bucket that has refilled completely is the same as no bucket: forget it. If a flood of distinct
        # clients keeps the table full, forget the longest-idle half.
        full = [
            name
            for name, (tokens, counted) in self._buckets.items()
            if tokens + (now - counted) * self.refill_per_s >= self.capacity
        ]
        for name in full:
            del self._buckets[name]
        if len(self._buckets) > self._max_clients:
            by_age = sorted(self._buckets, key=lambda name: self._buckets[name][1])
            for name in by_age[: len(by_age) // 2]:
                del self._buckets[name]


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`: by Content-Length up front, else while it streams in.

    The body is read here (at most `max_bytes`) and replayed to the app, so the app never sees a partial body and
    the 413 is sent before any route runs.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        return error(413, "too_large", f"the request body is over the limit of {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await error(400, "bad_request", "Content-Length is not a number")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(parts)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def check_question(settings: Settings, question: str, field: str = "question") -> None:
    """The max_question_chars limit, reported as a 422 on the request body's ``field`` (a chat's "message")."""
    if len(question) > settings.max_question_chars:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": ("body", field),
                    "msg": f"at most {settings.max_question_chars} characters (got {len(question)})",
                    "input": None,
                }
            ]
        )


def check_batch(settings: Settings, articles: list[Any]) -> None:
    if len(articles) > settings.max_batch_articles:
        raise HTTPException(
            413,
            f"at most {settings.max_batch_articles} articles per ingest request (got {len(articles)}); "
            "split the batch",
        )


def screen_articles(settings: Settings, articles: list[Any]) -> list[Any]:
    """Replace each article whose body is over `max_article_chars` by a rejection, keeping every index."""
    screened: list[Any] = []
    for index, item in enumerate(articles):
        body = item.get("body", item.get("text")) if isinstance(item, dict) else None
        if isinstance(body, str) and len(body) > settings.max_article_chars:
            reason = f"body is {len(body)} characters; the limit is {settings.max_article_chars}"
            screened.append(Record(origin=f"[{index}]", data=None, error=reason))
        else:
            screened.append(item)
    return screened


def document_limits(schema: dict[str, Any], settings: Settings) -> None:
    """Write the configured limits into the OpenAPI schema, so clients and fuzzers see the real bounds."""
    components = schema.get("components", {}).get("schemas", {})
    question = components.get("AskRequest", {}).get("properties", {}).get("question")
    if question is not None:
        question["maxLength"] = settings.max_question_chars
    articles = components.get("IngestRequest", {}).get("properties", {}).get("articles")
    if articles is not None:
        articles["maxItems"] = settings.max_batch_articles
        articles["description"] = (
            f"At most {settings.max_batch_articles} articles (413 above); an article whose body is over "
            f"{settings.max_article_chars} characters is rejected on its own."
        )
