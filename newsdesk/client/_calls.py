"""What the sync and async clients share: options, the request of each method, and when a request is retried."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypedDict, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from newsdesk.client.errors import retry_after_s
from rag.types import Article

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8000"
VERSION = "0.1.0"


class ClientOptions(BaseModel):
    """Timeouts and retries. Retries happen only where safe: a request that never reached the server (connection
    refused), a 429 (rejected before it ran; waits Retry-After), and for requests without side effects (ask, search,
    summaries, reads) also a broken connection, a timeout, 502, 503 or 504. Chat turns, ingest, deletes and feed
    changes are never re-sent once they may have reached the server."""

    model_config = ConfigDict(frozen=True)

    timeout_s: float = Field(
        120.0, gt=0, description="Per request; for a stream, the longest wait between events."
    )
    connect_timeout_s: float = Field(5.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    backoff_s: float = Field(0.5, ge=0, description="First retry's wait; doubles each time.")
    max_retry_after_s: float = Field(
        30.0,
        ge=0,
        description="A 429 asking to wait longer than this is raised as RateLimited, not waited out.",
    )


class Scope(TypedDict, total=False):
    """Where to look: outlets, a publication period, how many passages, and the date relative dates resolve to."""

    sources: Sequence[str]
    since: datetime | str
    until: datetime | str
    k: int
    as_of: datetime | str


@dataclass(frozen=True)
class Call(Generic[T]):
    method: Literal["GET", "POST", "DELETE"]
    path: str
    model: type[T]
    body: dict[str, Any] | None = None
    params: list[tuple[str, str | int | float | bool | None]] = field(default_factory=list)
    safe: bool = False  # no side effects: may be re-sent after it may have reached the server


def resolve(base_url: str | None, api_key: str | None) -> tuple[str, str | None]:
    """The URL and key given, else NEWSDESK_URL / NEWSDESK_API_KEY from the environment, else the local default."""
    url = base_url or os.environ.get("NEWSDESK_URL") or DEFAULT_URL
    return url.rstrip("/"), api_key if api_key is not None else os.environ.get("NEWSDESK_API_KEY") or None


def http_settings(base_url: str, api_key: str | None, options: ClientOptions) -> dict[str, Any]:
    headers = {"User-Agent": f"newsdesk-client/{VERSION}", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    timeout = httpx.Timeout(options.timeout_s, connect=options.connect_timeout_s)
    return {"base_url": base_url, "headers": headers, "timeout": timeout}


def _time(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else value


def scope_body(scope: Scope) -> dict[str, Any]:
    body: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    if "sources" in scope:
        filters["sources"] = list(scope["sources"])
    if "since" in scope:
        filters["since"] = _time(scope["since"])
    if "until" in scope:
        filters["until"] = _time(scope["until"])
    if filters:
        body["filters"] = filters
    if "k" in scope:
        body["k"] = scope["k"]
    if "as_of" in scope:
        body["as_of"] = _time(scope["as_of"])
    return body


def article_record(article: Mapping[str, Any] | Article) -> dict[str, Any]:
    if isinstance(article, Article):
        return article.model_dump(mode="json", exclude={"content_hash"}, exclude_defaults=True)
    return dict(article)


def retry_delay(
    options: ClientOptions,
    call: Call[Any],
    attempt: int,
    *,
    response: httpx.Response | None = None,
    error: httpx.TransportError | None = None,
) -> float | None:
    """Seconds to wait before re-sending, or None to give up (see ClientOptions)."""
    if attempt >= options.max_retries:
        return None
    backoff = options.backoff_s * 2**attempt
    if error is not None:
        never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        return backoff if never_sent or call.safe else None
    assert response is not None
    if response.status_code == 429:
        wait = retry_after_s(response) or 1.0
        return wait if wait <= options.max_retry_after_s else None
    return backoff if call.safe and response.status_code in (502, 503, 504) else None


_adapters: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(model: type[Any]) -> TypeAdapter[Any]:
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(model)  # built once per reply model: it is not cheap
    return adapter


def parse(call: Call[T], response: httpx.Response) -> T:
    """The typed reply (a 204 is None)."""
    if response.status_code == 204:
        return None  # type: ignore[return-value]
    value: T = _adapter(call.model).validate_json(response.content)
    return value
