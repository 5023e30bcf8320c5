"""The public contract of ``POST /v1/summaries`` (docs/API.md "Summaries")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from api.schemas import QUESTION_PATTERN, FiltersIn, NewsTime, Strict
from rag.types import Summary

MAX_ARTICLE_IDS = 50


class SummaryRequestIn(Strict):
    kind: Literal["brief", "digest", "timeline"] = Field(
        description="brief: one article's key sentences; digest: several articles, balanced across outlets; "
        "timeline: a story's dated events in date order."
    )
    article_ids: list[str] = Field(
        default_factory=list,
        max_length=MAX_ARTICLE_IDS,
        description="Articles to summarise (a brief needs exactly one). Unknown ids are a 404.",
    )
    # The length limit is the setting max_question_chars, checked by the route.
    topic: str | None = Field(
        None,
        min_length=1,
        pattern=r"\S",
        description="Find the articles by hybrid retrieval on this text (digest and timeline).",
        json_schema_extra={"pattern": QUESTION_PATTERN},
    )
    filters: FiltersIn | None = Field(
        None, description="Outlets and period; with no topic and no ids, the newest articles in the period."
    )
    as_of: NewsTime | None = Field(None, description="Resolve relative dates in the topic against this time.")
    max_sentences: int | None = Field(
        None, ge=1, le=20, description="Default: brief 3, digest 6, timeline 8."
    )

    @field_validator("article_ids")
    @classmethod
    def _ids_not_blank(cls, ids: list[str]) -> list[str]:
        if any(not i.strip() or len(i) > 200 for i in ids):
            raise ValueError("article ids must be 1-200 characters and not blank")
        return ids

    @model_validator(mode="after")
    def _something_to_summarise(self) -> SummaryRequestIn:
        if self.kind == "brief" and (len(self.article_ids) != 1 or self.topic is not None):
            raise ValueError("a brief summarises exactly one article: give one article id and no topic")
        no_filters = self.filters is None or not (
            self.filters.sources or self.filters.since or self.filters.until
        )
        if self.kind != "brief" and not self.article_ids and self.topic is None and no_filters:
            raise ValueError(f"a {self.kind} needs article_ids, a topic or filters")
        return self


SummaryResponse = Summary
