"""Turn loosely shaped article records into validated ``Article``s with stable ids and content hashes."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from rag.types import Article

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
TEXT_FIELDS = ("title", "source", "url", "author", "category")


class InvalidArticle(ValueError):
    """The record cannot become an article; the message says why (shown to the user)."""


# The Unicode "Cc" (control) characters but tab and newline: C0, DEL and C1. A regex instead of a per-character
# category test: the latter took ~4 s of a 609-article ingest.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Normalise line endings and Unicode form and drop control characters, keeping paragraph breaks."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def parse_published(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise InvalidArticle(f"published_at {value!r} is not a Unix time in seconds") from exc
    if not isinstance(value, str):
        raise InvalidArticle(f"published_at must be an ISO 8601 string, got {type(value).__name__}")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArticle(f"published_at {value!r} is not an ISO 8601 date") from exc
    # A date without a zone is taken as UTC so every stored timestamp is comparable.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_article(record: Any) -> Article:
    if not isinstance(record, dict):
        raise InvalidArticle(f"an article must be a JSON object, got {type(record).__name__}")
    fields: dict[str, str] = {}
    for name in TEXT_FIELDS:
        value = record.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise InvalidArticle(f"{name} must be a string, got {type(value).__name__}")
        fields[name] = clean_text(value)
    raw_body = record.get("body", record.get("text"))
    if raw_body is None:
        raise InvalidArticle("missing body (give 'body' or 'text')")
    if not isinstance(raw_body, str):
        raise InvalidArticle(f"body must be a string, got {type(raw_body).__name__}")
    body = clean_text(raw_body)
    if not body:
        raise InvalidArticle("empty body")
    if not fields["title"]:
        raise InvalidArticle("missing title")
    published = parse_published(record.get("published_at"))
    article_id = _article_id(record.get("id"), fields["url"], fields["title"], body)
    content_hash = hashlib.sha256(
        json.dumps(
            [fields[n] for n in TEXT_FIELDS] + [body, published.isoformat() if published else None],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
    return Article(id=article_id, body=body, published_at=published, content_hash=content_hash, **fields)


def _article_id(given: Any, url: str, title: str, body: str) -> str:
    if given not in (None, ""):
        if not isinstance(given, str) or not ID_PATTERN.match(given):
            raise InvalidArticle("id must be 1-200 characters of letters, digits, '.', '_', ':' or '-'")
        return given
    # Without an id the URL identifies the article (so an edited page replaces its old version);
    # without a URL, the title and body do.
    key = url or f"{title}\x00{body}"
    return "a_" + hashlib.sha256(key.encode()).hexdigest()[:20]
