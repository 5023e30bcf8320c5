"""LangChain: ``NewsdeskRetriever``, a ``BaseRetriever`` over newsdesk's hybrid retrieval (the langchain_core adapter).

Over HTTP through ``newsdesk.client`` (``base_url``/``api_key``, else NEWSDESK_URL / NEWSDESK_API_KEY) or in process
from a data dir (``data_dir``; the other settings from NEWSDESK_* as for the CLI). Each ``Document`` is one passage:
``page_content`` is the chunk text, verbatim ``article.body[start:end]``, and ``metadata`` carries article_id,
chunk_id, title, source, url, published_at (ISO 8601 or None), start, end, score and copies (syndicated copies'
article ids). Filters are fields: ``sources``, ``since``, ``until``, ``as_of`` (relative dates resolve against it).

With ``cited_answer=True`` the documents are instead the citations of newsdesk's verified answer to the query
(``page_content`` the quote, ``article.body[start:end]``), and each one's metadata also carries the answer:
``citation`` (its n), ``answer``, ``status``, ``short_answer`` ({text, citation, start, end} or None) and
``answerability``. An insufficient_evidence answer has no citations: no documents.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from newsdesk.client import AsyncNewsdesk, ClientOptions, Newsdesk, Scope
from rag.types import Answer, Passage

if TYPE_CHECKING:
    from rag.pipeline import Services


class NewsdeskRetriever(BaseRetriever):
    """Passages from newsdesk, best first, as LangChain documents with their article's character span."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    base_url: str | None = Field(
        None, description="A newsdesk server; default NEWSDESK_URL or 127.0.0.1:8000."
    )
    api_key: SecretStr | None = Field(None, description="The server's API key; default NEWSDESK_API_KEY.")
    data_dir: Path | None = Field(None, description="Search this data dir in process instead of over HTTP.")
    k: int = Field(8, ge=1, le=50, description="Passages per query.")
    sources: list[str] = Field(default_factory=list, description="Only these outlets.")
    since: datetime | None = Field(None, description="Only articles published at or after this time.")
    until: datetime | None = Field(None, description="Only articles published at or before this time.")
    as_of: datetime | None = Field(None, description="Resolve relative dates in the query against this time.")
    cited_answer: bool = Field(
        False,
        description="Return the citations of newsdesk's verified answer (with the answer in the metadata).",
    )
    options: ClientOptions = Field(default_factory=ClientOptions, description="HTTP timeouts and retries.")

    _services: Services | None = PrivateAttr(None)
    _client: Newsdesk | None = PrivateAttr(None)
    _owns_services: bool = PrivateAttr(False)

    @classmethod
    def from_services(cls, services: Services, **fields: Any) -> NewsdeskRetriever:
        """In process over services already built (their data dir and settings)."""
        retriever = cls(data_dir=services.settings.data_dir, **fields)
        retriever._services = services
        return retriever

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        if self.data_dir is not None:
            return self._in_process(query)
        if self._client is None:
            self._client = Newsdesk(self.base_url, self._key(), options=self.options)
        if self.cited_answer:
            return answer_documents(self._client.ask(query, **self._scope()))
        return documents(self._client.search(query, **self._scope()).passages)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        if self.data_dir is not None:
            return await asyncio.to_thread(self._in_process, query)
        # One client per call: an httpx.AsyncClient belongs to the event loop that made it.
        async with AsyncNewsdesk(self.base_url, self._key(), options=self.options) as client:
            if self.cited_answer:
                return answer_documents(await client.ask(query, **self._scope()))
            return documents((await client.search(query, **self._scope())).passages)

    def close(self) -> None:
        """Close the HTTP client, or the services this retriever built (not those given to ``from_services``)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._services is not None and self._owns_services:
            self._services.close()
            self._services = None

    def _key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None

    def _scope(self) -> Scope:
        scope: Scope = {"k": self.k}
        if self.sources:
            scope["sources"] = self.sources
        if self.since is not None:
            scope["since"] = self.since
        if self.until is not None:
            scope["until"] = self.until
        if self.as_of is not None:
            scope["as_of"] = self.as_of
        return scope

    def _in_process(self, query: str) -> list[Document]:
        from rag.pipeline import ask
        from rag.types import Filters

        if self._services is None:
            from rag.pipeline import build_services
            from rag.settings import Settings

            self._services = build_services(Settings(data_dir=self.data_dir))
            self._owns_services = True
        filters = Filters(sources=self.sources, since=self.since, until=self.until)
        if self.cited_answer:
            return answer_documents(
                ask(self._services, query, None if filters.empty else filters, self.k, self.as_of)
            )
        return documents(self._services.retriever.search(query.strip(), self.k, filters, self.as_of))


def documents(passages: Sequence[Passage]) -> list[Document]:
    return [
        Document(
            page_content=p.chunk.text,
            id=p.chunk.id,
            metadata={
                "article_id": p.chunk.article_id,
                "chunk_id": p.chunk.id,
                "title": p.title,
                "source": p.source,
                "url": p.url,
                "published_at": p.published_at.isoformat() if p.published_at else None,
                "start": p.chunk.start,
                "end": p.chunk.end,
                "score": p.score,
                "copies": list(p.copies),
            },
        )
        for p in passages
    ]


def answer_documents(answer: Answer) -> list[Document]:
    """The answer's citations as documents, each with the answer in its metadata."""
    shared = {
        "answer": answer.answer,
        "status": answer.status,
        "short_answer": answer.short_answer.model_dump() if answer.short_answer else None,
        "answerability": answer.answerability,
    }
    return [
        Document(
            page_content=c.quote,
            metadata={
                "article_id": c.article_id,
                "chunk_id": c.chunk_id,
                "title": c.title,
                "source": c.source,
                "url": c.url,
                "published_at": c.published_at.isoformat() if c.published_at else None,
                "start": c.start,
                "end": c.end,
                "copies": list(c.copies),
                "citation": c.n,
                **shared,
            },
        )
        for c in answer.citations
    ]


def format_passages(docs: Sequence[Document]) -> str:
    """The documents numbered [1], [2], ... with outlet and date, for a prompt that asks for [n] citations."""
    return "\n\n".join(
        f"[{n}] {d.metadata['source']}, {(d.metadata['published_at'] or '')[:10]}: {d.page_content}"
        for n, d in enumerate(docs, 1)
    )


def citations(docs: Sequence[Document]) -> list[str]:
    """One line per document: [n] outlet, title, url and the character span of the passage in its article."""
    return [
        f"[{n}] {d.metadata['source']}: {d.metadata['title']} <{d.metadata['url']}> "
        f"({d.metadata['article_id']}, characters {d.metadata['start']}-{d.metadata['end']})"
        for n, d in enumerate(docs, 1)
    ]
