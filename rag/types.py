"""The core's data: articles, chunks, passages and the cited, verified answers built from them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Article(Frozen):
    id: str
    title: str
    body: str
    source: str = ""
    url: str = ""
    published_at: datetime | None = None
    author: str = ""
    category: str = ""
    content_hash: str = ""


class Chunk(Frozen):
    """A token-bounded slice of an article; ``text == article.body[start:end]``."""

    id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int


class Passage(Frozen):
    """A retrieved chunk with the article metadata needed to cite it."""

    chunk: Chunk
    title: str
    source: str
    url: str
    published_at: datetime | None
    score: float = 0.0
    copies: list[str] = Field(
        default_factory=list, description="Syndicated copies of the same story (article ids)."
    )


class Citation(Frozen):
    n: int
    article_id: str
    chunk_id: str
    title: str
    source: str
    url: str
    published_at: datetime | None
    quote: str = Field(description="Verbatim text of the article between start and end.")
    start: int
    end: int
    copies: list[str] = Field(
        default_factory=list, description="Other outlets' copies of this story (article ids)."
    )


class AnswerSentence(Frozen):
    text: str
    citations: list[int]
    support: float = Field(ge=0.0, le=1.0)
    supported: bool


Status = Literal["answered", "insufficient_evidence"]


class ShortAnswer(Frozen):
    """The direct answer: a phrase (name, number with unit, date, place, or "Yes"/"No") and where it stands.

    For a phrase, ``text`` is verbatim ``article.body[start:end]`` of the article cited as ``citation``; for "Yes" or
    "No", ``start``/``end`` are the deciding sentence's span in that article."""

    text: str
    citation: int = Field(description="The number n of the citation the answer is taken from.")
    start: int
    end: int


class Answer(Frozen):
    question: str
    answer: str
    status: Status
    sentences: list[AnswerSentence]
    citations: list[Citation]
    writer: str
    prompt_id: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    short_answer: ShortAnswer | None = Field(
        None, description="The direct answer taken verbatim from a cited passage; null when there is none."
    )
    answerability: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="How well the passages answer this question (0-1); below the calibrated threshold the "
        "answer is insufficient_evidence.",
    )


class ChatReply(Frozen):
    """A chat turn's reply (``POST /v1/chat``): the conversation, the turn's number, what was searched, the answer."""

    conversation_id: str
    turn: int
    retrieval_queries: list[str]
    answer: Answer


class DraftSentence(Frozen):
    """What a writer proposes: a sentence and the 1-based indexes of the passages it cites."""

    text: str
    passages: list[int]


class DraftShortAnswer(Frozen):
    """A writer's direct answer: ``text`` at ``chunk.text[start:end]`` of passage ``passage`` (1-based), or "Yes" /
    "No" with the deciding sentence's span."""

    text: str
    passage: int
    start: int
    end: int


class Draft(Frozen):
    sentences: list[DraftSentence]
    writer: str
    prompt_id: str | None = None
    short_answer: DraftShortAnswer | None = None
    answerability: float | None = None
    # Why there is no answer, when the writer judged the passages not to answer ("No passage states ...").
    refusal: str | None = None
    # The direct answer(s) to open the answer with: the short answer, "Yes"/"No", or one per part of the question.
    lead: str | None = None


class Filters(Frozen):
    sources: list[str] = Field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None

    @field_validator("since", "until")
    @classmethod
    def _utc_if_naive(cls, value: datetime | None) -> datetime | None:
        # Article dates without a zone are stored as UTC; filters read the same way, whatever the server's zone.
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @property
    def empty(self) -> bool:
        return not self.sources and self.since is None and self.until is None


SummaryKind = Literal["brief", "digest", "timeline"]


class SummarySentence(AnswerSentence):
    date: datetime | None = Field(None, description="The event date of a timeline entry; null otherwise.")


class Summary(Frozen):
    """A brief (one article), digest (several) or timeline (dated events), every sentence cited and verified."""

    kind: SummaryKind
    status: Status
    text: str = Field(description="The summary with inline [n] citation markers.")
    sentences: list[SummarySentence]
    citations: list[Citation]
    articles: list[str] = Field(description="Ids of the articles summarised; syndicated copies counted once.")
    writer: str
    prompt_id: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)


# A feed's refresh interval, in seconds: checked by the feed registry and by the API schema, which light clients
# import (so the bounds live here, not in the ingest package).
FEED_MIN_INTERVAL_S = 1.0
FEED_MAX_INTERVAL_S = 7 * 24 * 3600.0
