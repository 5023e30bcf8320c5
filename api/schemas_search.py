"""The public contract of ``POST /v1/search``: the passages retrieval finds, with their character spans."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas import FiltersIn, NewsTime, QuestionText, Strict
from rag.types import Passage


class SearchRequest(Strict):
    query: QuestionText
    filters: FiltersIn | None = None
    k: int | None = Field(None, ge=1, le=50, description="Passages to return (default: server setting).")
    as_of: NewsTime | None = Field(None, description="Resolve relative dates in the query against this time.")


class SearchResponse(BaseModel):
    query: str
    passages: list[Passage] = Field(
        description="Best first; each chunk's text is article.body[chunk.start:chunk.end]. A syndicated story is "
        "shown once (its other outlets' copies in `copies`)."
    )
