"""Where the MCP tools get their news: a local data dir (the pipeline in process) or a remote newsdesk server (the
client). Both return the API's own models. The local one raises ``NewsRequestError`` for what the caller got wrong
(an unknown article id, an invalid request) with the message the API would give; the remote one raises the client's
``NewsdeskError`` with the server's code and message."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import ValidationError

from api.schemas import ArticleDetail, ArticleList, ArticleSummary, ChunkOut
from api.schemas_summaries import SummaryRequestIn
from newsdesk.client import Newsdesk, Scope
from rag.types import Answer, Filters, Passage, Summary

if TYPE_CHECKING:
    from rag.pipeline import Services
    from rag.settings import Settings

SummaryKind = Literal["brief", "digest", "timeline"]


class NewsRequestError(Exception):
    """The request cannot be answered as asked (unknown article, invalid arguments); the message says why."""


class Where:
    """Outlets, a publication period and a reference date, as given to a tool."""

    def __init__(
        self,
        sources: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        as_of: datetime | None = None,
    ) -> None:
        self.sources, self.since, self.until, self.as_of = list(sources or []), since, until, as_of

    def filters(self) -> Filters | None:
        filters = Filters(sources=self.sources, since=self.since, until=self.until)
        return None if filters.empty else filters

    def scope(self, k: int | None = None) -> Scope:
        scope: Scope = {}
        if self.sources:
            scope["sources"] = self.sources
        for key, value in (("since", self.since), ("until", self.until), ("as_of", self.as_of)):
            if value is not None:
                scope[key] = value  # type: ignore[literal-required]
        if k is not None:
            scope["k"] = k
        return scope


class NewsBackend(Protocol):
    name: str

    def ask(self, question: str, where: Where, k: int | None) -> Answer: ...
    def search(self, query: str, where: Where, k: int | None) -> list[Passage]: ...
    def summarize(self, request: SummaryRequestIn) -> Summary: ...
    def articles(self, where: Where, text: str, limit: int, offset: int) -> ArticleList: ...
    def article(self, article_id: str) -> ArticleDetail: ...
    def close(self) -> None: ...


def summary_request(
    kind: SummaryKind,
    article_ids: Sequence[str],
    topic: str | None,
    where: Where,
    max_sentences: int | None,
) -> SummaryRequestIn:
    """The API's own validation of a summary request (a brief takes exactly one article id, ...)."""
    filters = {"sources": where.sources, "since": where.since, "until": where.until}
    try:
        return SummaryRequestIn(
            kind=kind,
            article_ids=list(article_ids),
            topic=topic,
            filters=filters if where.filters() else None,
            as_of=where.as_of,
            max_sentences=max_sentences,
        )
    except ValidationError as exc:
        raise NewsRequestError("; ".join(str(e["msg"]) for e in exc.errors())) from exc


class LocalNews:
    """The pipeline in process over a data dir; services are built on first use (loading the embedding model)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = f"data dir {Path(settings.data_dir).resolve()}"
        self._services: Services | None = None
        self._lock = threading.Lock()

    def services(self) -> Services:
        with self._lock:
            if self._services is None:
                from rag.pipeline import build_services

                self._services = build_services(self.settings)
            return self._services

    def ask(self, question: str, where: Where, k: int | None) -> Answer:
        from rag.pipeline import ask

        self._check_length(question)
        return ask(self.services(), question, where.filters(), k, where.as_of)

    def search(self, query: str, where: Where, k: int | None) -> list[Passage]:
        self._check_length(query)
        services = self.services()
        return services.retriever.search(
            query.strip(), k or self.settings.retrieve_k, where.filters(), where.as_of
        )

    def summarize(self, request: SummaryRequestIn) -> Summary:
        from rag.summaries.summarize import SummaryRequest, UnknownArticle, summarize

        if request.topic is not None:
            self._check_length(request.topic)
        filters = Filters(**request.filters.model_dump()) if request.filters else None
        plain = SummaryRequest(**request.model_dump(exclude={"filters"}), filters=filters)
        try:
            return summarize(self.services(), plain)
        except (UnknownArticle, ValueError) as exc:
            raise NewsRequestError(str(exc)) from exc

    def articles(self, where: Where, text: str, limit: int, offset: int) -> ArticleList:
        items, total = self.services().registry.articles(
            sources=where.sources, since=where.since, until=where.until, text=text, limit=limit, offset=offset
        )
        return ArticleList(total=total, items=[ArticleSummary.of(a) for a in items])

    def article(self, article_id: str) -> ArticleDetail:
        services = self.services()
        article = services.registry.article(article_id)
        if article is None:
            raise NewsRequestError(f"no article with id {article_id!r}")
        chunks = [
            ChunkOut(**c.model_dump(include=set(ChunkOut.model_fields)))
            for c in services.registry.chunks_of(article_id)
        ]
        summary = ArticleSummary.of(article).model_dump()
        return ArticleDetail(**summary, body=article.body, content_hash=article.content_hash, chunks=chunks)

    def close(self) -> None:
        if self._services is not None:
            self._services.close()

    def _check_length(self, text: str) -> None:
        if not text.strip():
            raise NewsRequestError("the question is empty")
        if len(text) > self.settings.max_question_chars:
            raise NewsRequestError(f"at most {self.settings.max_question_chars} characters (got {len(text)})")


class RemoteNews:
    """A newsdesk server over HTTP (``newsdesk.client``); its errors are ``NewsdeskError``s with the server's code."""

    def __init__(self, base_url: str | None, api_key: str | None) -> None:
        self._client = Newsdesk(base_url, api_key)
        self.name = f"server {self._client.base_url}"

    def ask(self, question: str, where: Where, k: int | None) -> Answer:
        return self._client.ask(question, **where.scope(k))

    def search(self, query: str, where: Where, k: int | None) -> list[Passage]:
        return self._client.search(query, **where.scope(k)).passages

    def summarize(self, request: SummaryRequestIn) -> Summary:
        filters = request.filters.model_dump() if request.filters else {}
        scope = Where(**filters, as_of=request.as_of).scope()
        return self._client.summarize(
            request.kind,
            article_ids=request.article_ids,
            topic=request.topic,
            max_sentences=request.max_sentences,
            **scope,
        )

    def articles(self, where: Where, text: str, limit: int, offset: int) -> ArticleList:
        return self._client.articles(
            sources=where.sources, since=where.since, until=where.until, text=text, limit=limit, offset=offset
        )

    def article(self, article_id: str) -> ArticleDetail:
        return self._client.article(article_id)

    def close(self) -> None:
        self._client.close()
