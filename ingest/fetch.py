"""Fetch one URL politely: timeout, size limit, redirects, charset, conditional GET; errors come back as values."""

from __future__ import annotations

import codecs
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ingest.loaders import Record
    from rag.settings import Settings

USER_AGENT = "newsdesk/0.1"
MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.IGNORECASE)


@dataclass(frozen=True)
class FetchResult:
    """What one fetch gave: the decoded text, or ``not_modified`` (304), or an ``error`` saying why not."""

    url: str  # the final URL, after redirects
    status: int = 0
    text: str = ""
    content: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.not_modified


def _charset(content_type_header: str) -> str | None:
    for part in content_type_header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def decode(content: bytes, content_type_header: str = "") -> str:
    """Decode a page: the charset in the header, else the one in a <meta> or XML declaration, else UTF-8
    (windows-1252 when the bytes are not UTF-8)."""
    candidates = [_charset(content_type_header)]
    head = content[:4096]
    for pattern in (_META_CHARSET, _XML_ENCODING):
        match = pattern.search(head)
        if match:
            candidates.append(match.group(1).decode("ascii", "replace"))
    for name in candidates:
        if not name:
            continue
        try:
            codecs.lookup(name)
        except LookupError:
            continue
        return content.decode(name, errors="replace").lstrip("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def fetch(
    url: str,
    *,
    timeout_s: float = 10.0,
    max_bytes: int = 5 * 1024 * 1024,
    etag: str | None = None,
    last_modified: str | None = None,
    html_only: bool = True,
    client: httpx.Client | None = None,
) -> FetchResult:
    """GET ``url``; never raises for network or HTTP problems (they land in ``error``)."""
    if not url.lower().startswith(("http://", "https://")):
        return FetchResult(url, error="only http:// and https:// URLs can be fetched")
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own = client is None
    http = client or httpx.Client(follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=timeout_s)
    deadline = time.monotonic() + timeout_s * 3  # per-read timeouts, plus a bound on a trickling body
    try:
        with http.stream("GET", url, headers=headers, timeout=timeout_s) as response:
            final = str(response.url)
            meta: dict[str, Any] = {
                "status": response.status_code,
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
            }
            if response.status_code == 304:
                return FetchResult(final, not_modified=True, **meta)
            if response.status_code >= 400:
                reason = response.reason_phrase or "error"
                return FetchResult(final, error=f"HTTP {response.status_code} {reason}", **meta)
            content_type = response.headers.get("content-type", "")
            mime = content_type.split(";")[0].strip().lower()
            if html_only and mime and mime not in HTML_TYPES:
                return FetchResult(final, error=f"not HTML (content type {mime})", **meta)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                return FetchResult(final, error=f"page larger than {max_bytes} bytes", **meta)
            body = bytearray()
            for piece in response.iter_bytes():
                body.extend(piece)
                if len(body) > max_bytes:
                    return FetchResult(final, error=f"page larger than {max_bytes} bytes", **meta)
                if time.monotonic() > deadline:
                    return FetchResult(final, error=f"timed out after {timeout_s:g}s", **meta)
            content = bytes(body)
            return FetchResult(
                final,
                text=decode(content, content_type),
                content=content,
                content_type=mime,
                **meta,
            )
    except httpx.TimeoutException:
        return FetchResult(url, error=f"timed out after {timeout_s:g}s")
    except httpx.TooManyRedirects:
        return FetchResult(url, error=f"more than {MAX_REDIRECTS} redirects")
    except httpx.HTTPError as exc:
        return FetchResult(url, error=f"fetch failed: {type(exc).__name__}: {exc}")
    except (ValueError, OSError) as exc:  # malformed URL, socket errors outside httpx's mapping
        return FetchResult(url, error=f"fetch failed: {exc}")
    finally:
        if own:
            http.close()


def is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def fetch_records(urls: list[str], settings: Settings) -> list[Record]:
    """Fetch and extract each URL (``fetch_concurrency`` at a time); a failing URL becomes a Record with an error."""
    from ingest.html import extract_article
    from ingest.loaders import Record

    def one(url: str) -> Record:
        page = fetch(url, timeout_s=settings.fetch_timeout_s, max_bytes=settings.fetch_max_bytes)
        if page.error is not None:
            return Record(url, None, page.error)
        data = extract_article(page.text, page.url)
        if not str(data.get("body", "")).strip():
            return Record(url, None, "no article text found in the HTML")
        data["url"] = data.get("url") or url
        return Record(url, data)

    with ThreadPoolExecutor(max_workers=settings.fetch_concurrency) as pool:
        return list(pool.map(one, urls))
