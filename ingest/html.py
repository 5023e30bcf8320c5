"""trafilatura adapter: main text and metadata from a news page."""

from __future__ import annotations

from typing import Any

import trafilatura


def extract_article(html: str, url: str = "") -> dict[str, Any]:
    """An article record from HTML; body is empty when the page has no article text."""
    document = trafilatura.bare_extraction(
        html, url=url or None, include_comments=False, include_tables=False, with_metadata=True
    )
    if document is None:
        return {"title": "", "body": "", "url": url}
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    return {
        "title": data.get("title") or "",
        "body": data.get("text") or "",
        "source": data.get("sitename") or data.get("hostname") or "",
        "url": data.get("url") or url,
        "published_at": data.get("date") or None,
        "author": data.get("author") or "",
        "category": ", ".join(data.get("categories") or [])
        if isinstance(data.get("categories"), list)
        else "",
    }
