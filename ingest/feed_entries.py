"""A feed entry as newsdesk reads it: its fingerprint (new or changed?), its text and its publication time."""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import UTC, datetime
from typing import Any


def entry_fingerprint(entry: dict[str, Any]) -> str:
    content = [c.get("value", "") for c in entry.get("content", []) or []]
    parts = [
        entry.get("title", ""),
        entry.get("link", ""),
        entry.get("summary", ""),
        content,
        entry.get("published", ""),
        entry.get("updated", ""),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()


def _strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>", "\n\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def entry_body_text(entry: dict[str, Any]) -> str:
    contents = [c.get("value", "") for c in entry.get("content", []) or [] if c.get("value")]
    best = max(contents, key=len) if contents else entry.get("summary", "") or ""
    return _strip_html(str(best))


def entry_published(entry: dict[str, Any]) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime(*parsed[:6]).replace(tzinfo=UTC).isoformat()
    return None
