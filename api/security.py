"""API keys, rate limiting and the refusal to serve an open API on a public interface.

Every request is classed before any body is read: *open* (the index page, docs, OpenAPI schema, /healthz), *read*
(GET/HEAD, and POSTs that change nothing such as /v1/ask) or *write* (everything else: ingest, delete, and any
future route that changes state unless listed as a read). With API keys configured, writes need
`Authorization: Bearer KEY`, and reads do too when `auth_reads` is set. Keys are compared with
``hmac.compare_digest`` against every configured key. Rate limits are per key, or per client IP without a valid key
(an invalid key does not get its own bucket, so guessing keys is limited per IP).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import math
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import database_unavailable, error
from api.limits import TokenBuckets
from rag.settings import Settings
from rag.storage.db import DatabaseUnavailable

OPEN_PATHS = frozenset({"/", "/healthz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
# Not rate limited (monitoring polls them), though /metrics is a read and needs a key under auth_reads.
UNLIMITED_PATHS = OPEN_PATHS | {"/metrics"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_POSTS = frozenset({"/v1/ask", "/v1/search", "/v1/chat", "/v1/summaries", "/v1/chat/completions"})
STATIC_PREFIX = "/static/"
CONVERSATIONS_PREFIX = "/v1/conversations/"
SECURITY_SCHEME = "apiKey"


class UnsafeExposure(ValueError):
    """The settings would serve an API without keys on a non-loopback interface."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse an open API on anything but loopback, unless explicitly allowed."""
    if settings.api_keys or settings.allow_open or is_loopback(settings.host):
        return
    raise UnsafeExposure(
        f"refusing to serve the API on {settings.host} without API keys: anyone who can reach it could ingest "
        "and delete articles. Set NEWSDESK_API_KEYS=KEY[,KEY...] (each at least 16 characters), bind "
        "127.0.0.1, or set NEWSDESK_ALLOW_OPEN=true to accept an open API."
    )


def access(method: str, path: str) -> str:
    """'open', 'read' or 'write'."""
    if path in OPEN_PATHS or path.startswith(STATIC_PREFIX):
        return "open"  # the web page's own files: it asks for a key itself
    if method in SAFE_METHODS or (method == "POST" and path in READ_POSTS):
        return "read"
    if method == "DELETE" and path.startswith(CONVERSATIONS_PREFIX):
        return "read"  # forgetting a chat is part of chatting; it changes no article
    return "write"


def needs_key(settings: Settings, method: str, path: str) -> bool:
    if not settings.api_keys:
        return False
    kind = access(method, path)
    return kind == "write" or (kind == "read" and settings.auth_reads)


class KeyChecker:
    def __init__(self, keys: list[str]) -> None:
        self._keys = [key.encode() for key in keys]

    def identify(self, authorization: str | None) -> tuple[str | None, bool]:
        """(the bucket name of a valid key or None, whether a bearer token was sent at all)."""
        if not authorization:
            return None, False
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, True
        sent = token.strip().encode("latin-1")
        matched: bytes | None = None
        for key in self._keys:  # every key is compared, so timing does not say which one matched
            if hmac.compare_digest(sent, key):
                matched = key
        if matched is None:
            return None, True
        return "key:" + hashlib.sha256(matched).hexdigest()[:16], True


class GuardMiddleware:
    """Rate limit, then authenticate, before the request body is read."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.keys = KeyChecker(settings.api_keys)
        rate = settings.rate_limit_per_minute
        # With NEWSDESK_DATABASE_URL the app's lifespan opens buckets shared through the database
        # (app.state.rate_buckets, api/limits_db.py); these in-memory ones are used otherwise.
        self.shared = bool(settings.database_url)
        self.buckets = TokenBuckets(rate, rate / 60.0) if rate > 0 and not self.shared else None

    async def _take(self, scope: Scope, bucket: str) -> float | None:
        """Seconds to wait (0: go ahead); None when there is no limit."""
        if not self.shared:
            return None if self.buckets is None else self.buckets.take(bucket)
        shared = getattr(scope["app"].state, "rate_buckets", None)
        return None if shared is None else await asyncio.to_thread(shared.take, bucket)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        identity, sent_token = self.keys.identify(Headers(scope=scope).get("authorization"))
        if path not in UNLIMITED_PATHS:
            client = scope.get("client")
            bucket = identity or f"ip:{client[0] if client else 'unknown'}"
            try:
                wait = await self._take(scope, bucket)
            except DatabaseUnavailable as exc:
                await database_unavailable(exc)(scope, receive, send)
                return
            if wait is not None and wait > 0:
                seconds = max(1, math.ceil(wait))
                response = error(
                    429,
                    "rate_limited",
                    f"more than {self.settings.rate_limit_per_minute} requests a minute; "
                    f"retry in {seconds} s",
                    {"Retry-After": str(seconds)},
                )
                await response(scope, receive, send)
                return
        if identity is None and needs_key(self.settings, method, path):
            if sent_token:
                message, challenge = "the API key is not valid", 'Bearer error="invalid_token"'
            else:
                message = "this endpoint needs an API key: send the header 'Authorization: Bearer KEY'"
                challenge = "Bearer"
            response = error(401, "unauthorized", message, {"WWW-Authenticate": challenge})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def document_security(schema: dict[str, Any], settings: Settings) -> None:
    """Mark the operations that need a key (under these settings) in the OpenAPI schema."""
    if not settings.api_keys:
        return
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "One of the keys in NEWSDESK_API_KEYS.",
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and needs_key(settings, method.upper(), path):
                operation["security"] = [{SECURITY_SCHEME: []}]
