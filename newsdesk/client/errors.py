"""One exception class per error code of the API (docs/API.md): each carries ``code``, ``message``, ``status`` and
``request_id`` (the server's X-Request-ID, to quote when reporting a problem)."""

from __future__ import annotations

import json

import httpx


class NewsdeskError(Exception):
    """Any error the API answered with, or a failure to reach it (``status`` None)."""

    def __init__(
        self, code: str, message: str, status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(f"{code}: {message}" + (f" (HTTP {status})" if status else ""))
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id


class BadRequest(NewsdeskError):
    """400: the request body could not be read."""


class Unauthorized(NewsdeskError):
    """401: an API key is needed, or the one sent is not valid."""


class NotFound(NewsdeskError):
    """404: no such article, conversation or route."""


class MethodNotAllowed(NewsdeskError):
    """405."""


class TooLarge(NewsdeskError):
    """413: the body, or the number of articles in it, is over the server's limit."""


class InvalidRequest(NewsdeskError):
    """422: the request does not match the schema or a limit; the message names the field."""


class RateLimited(NewsdeskError):
    """429: too many requests; ``retry_after`` is the server's Retry-After in seconds."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, message, status, request_id)
        self.retry_after = retry_after


class InternalError(NewsdeskError):
    """500: logged by the server under ``request_id``; no details are returned."""


class WriterUnavailable(NewsdeskError):
    """503: the server's configured answer writer (a model endpoint) is unreachable."""


class ConnectionFailed(NewsdeskError):
    """The server could not be reached, or the connection broke (``status`` None)."""


BY_CODE: dict[str, type[NewsdeskError]] = {
    "bad_request": BadRequest,
    "unauthorized": Unauthorized,
    "not_found": NotFound,
    "method_not_allowed": MethodNotAllowed,
    "too_large": TooLarge,
    "invalid_request": InvalidRequest,
    "rate_limited": RateLimited,
    "internal_error": InternalError,
    "writer_unavailable": WriterUnavailable,
}
# The server's status for each code (api/errors.py), for replies without the error shape (e.g. from a proxy).
CODE_OF_STATUS = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
CODE_OF_STATUS |= {413: "too_large", 422: "invalid_request", 429: "rate_limited", 500: "internal_error"}
CODE_OF_STATUS |= {503: "writer_unavailable"}


def error_for(
    code: str, message: str, status: int | None, request_id: str | None, retry_after: float | None = None
) -> NewsdeskError:
    """The exception for an error code (or, for a code this client does not know, for the HTTP status)."""
    kind = BY_CODE.get(code) or BY_CODE.get(CODE_OF_STATUS.get(status or 0, ""), NewsdeskError)
    if issubclass(kind, RateLimited):
        return kind(code, message, status, request_id, retry_after)
    return kind(code, message, status, request_id)


def retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return float(value)
    except ValueError:
        return None  # absent, or an HTTP date (the newsdesk server sends seconds)


def error_from_response(response: httpx.Response) -> NewsdeskError:
    """The exception for an error response: its one error shape, or the bare status when a proxy answered."""
    try:
        body = json.loads(response.content)
        code, message = str(body["error"]["code"]), str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        code = CODE_OF_STATUS.get(response.status_code, f"http_{response.status_code}")
        message = response.text[:500] or response.reason_phrase
    return error_for(
        code, message, response.status_code, response.headers.get("X-Request-ID"), retry_after_s(response)
    )
