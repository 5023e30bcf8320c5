"""The public contract of the HTTP API."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from rag.types import Answer, Article

# What the question validators accept, as one regex for the OpenAPI schema: some non-space character and no control
# characters other than tab, CR and LF.
_NO_CONTROL = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
QUESTION_PATTERN = rf"^{_NO_CONTROL}*[^\s\x00-\x1f\x7f-\x9f]{_NO_CONTROL}*$"


MAX_SOURCES = 100  # outlets per filter; thousands would be a 500 from the stores, not a 422
EARLIEST, LATEST = datetime(1800, 1, 1, tzinfo=UTC), datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)


def _news_time(value: datetime) -> datetime:
    # A time without a zone is UTC, as at ingest. The bounds keep date arithmetic (relative dates, timestamps)
    # far from datetime's year 1..9999 range, which would otherwise be a 500.
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not EARLIEST <= value <= LATEST:
        raise ValueError("must be between 1800-01-01 and 2200-12-31")
    return value


NewsTime = Annotated[datetime, AfterValidator(_news_time)]


def no_control_characters(text: str) -> str:
    """Questions and chat messages: tab and newlines are fine, other control characters are not."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise ValueError("must not contain control characters")
    return text


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FiltersIn(Strict):
    sources: list[str] = Field(
        default_factory=list, max_length=MAX_SOURCES, description="Only these outlets (exact source names)."
    )
    since: NewsTime | None = Field(None, description="Only articles published at or after this time.")
    until: NewsTime | None = Field(None, description="Only articles published at or before this time.")


# The length limit of a question or chat message is the setting max_question_chars, checked by the route and written
# into the OpenAPI schema.
QuestionText = Annotated[
    str,
    Field(
        min_length=1,
        pattern=r"\S",
        description="Must not be blank or hold control characters (tab and newlines are fine).",
        json_schema_extra={"pattern": QUESTION_PATTERN},
    ),
    AfterValidator(no_control_characters),
]


class AnswerOptions(Strict):
    """What an ask and a chat turn share: how to retrieve, and whether to stream."""

    filters: FiltersIn | None = None
    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (default: server setting).")
    as_of: NewsTime | None = Field(None, description="Resolve relative dates in the text against this time.")
    stream: bool = Field(False, description="Reply with server-sent events (docs/API.md, Streaming).")


class AskRequest(AnswerOptions):
    question: QuestionText


AskResponse = Answer


class ChatRequest(AnswerOptions):
    message: QuestionText
    conversation_id: str | None = Field(
        None, min_length=1, max_length=100, description="Omit to start a conversation; unknown ids are a 404."
    )


class ConversationTurnOut(BaseModel):
    turn: int
    message: str
    answer: Answer


class ConversationOut(BaseModel):
    conversation_id: str
    turns: list[ConversationTurnOut]


class IngestRequest(BaseModel):
    # Items are validated one by one by the ingest pipeline so one bad article is rejected, not the whole batch.
    # At most the setting max_batch_articles (413 above), checked by the route.
    articles: list[Any] = Field(min_length=1)


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


class SourceCount(BaseModel):
    source: str
    articles: int


class SourceList(BaseModel):
    items: list[SourceCount]
