"""The public contract of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rag.types import Answer, Article


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FiltersIn(Strict):
    sources: list[str] = Field(default_factory=list, description="Only these outlets (exact source names).")
    since: datetime | None = Field(None, description="Only articles published at or after this time.")
    until: datetime | None = Field(None, description="Only articles published at or before this time.")


class AskRequest(Strict):
    question: str = Field(min_length=1, max_length=2000, pattern=r"\S", description="Must not be blank.")
    filters: FiltersIn | None = None
    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (default: server setting).")
    as_of: datetime | None = Field(
        None, description="Resolve relative dates in the question against this time."
    )


AskResponse = Answer


class IngestRequest(BaseModel):
    # Items are validated one by one by the ingest pipeline so one bad article is rejected, not the whole batch.
    articles: list[Any] = Field(min_length=1, max_length=1000)


class RejectedOut(BaseModel):
    index: int
    reason: str


class IngestResponse(BaseModel):
    added: int
    updated: int
    unchanged: int
    rejected: list[RejectedOut]
    article_ids: list[str]


class ArticleSummary(BaseModel):
    id: str
    title: str
    source: str
    url: str
    published_at: datetime | None
    author: str
    category: str

    @classmethod
    def of(cls, article: Article) -> ArticleSummary:
        return cls(**article.model_dump(include=set(cls.model_fields)))


class ArticleList(BaseModel):
    total: int
    items: list[ArticleSummary]


class ChunkOut(BaseModel):
    id: str
    index: int
    start: int
    end: int
    text: str


class ArticleDetail(ArticleSummary):
    body: str
    content_hash: str
    chunks: list[ChunkOut]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: str
    articles: int
    chunks: int
    embedder: str
    writer: str
    vector_store: str
