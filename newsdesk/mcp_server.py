"""`newsdesk mcp`: the Model Context Protocol server (the adapter of the official `mcp` SDK).

Tools ask_news, search_news, summarize_news and list_articles, and each article as a resource
(``newsdesk://articles/{id}``), over stdio (the default: an assistant starts this command) or streamable HTTP. The
news comes from a local data dir or from a newsdesk server (``--url``; the key from NEWSDESK_API_KEY).
A request the news cannot answer as asked (an unknown article id, an invalid argument, a server's error reply) is a
tool error with the reason, never a crash of the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import Resource as ResourceInfo
from pydantic import Field

from api.schemas import ArticleList
from api.schemas_search import SearchResponse
from newsdesk.client import NewsdeskError
from newsdesk.news_backends import NewsBackend, NewsRequestError, Where, summary_request
from rag.types import Answer, Summary

T = TypeVar("T")
ARTICLE_URI = "newsdesk://articles/{article_id}"
MAX_LISTED_RESOURCES = 1000  # articles listed as resources, newest first; any id can still be read

INSTRUCTIONS = (
    "newsdesk answers questions about the news articles it holds. Every answer sentence cites the passage it came "
    "from (article id, character span, verbatim quote) and was checked against it; when the articles do not hold "
    "the answer the status is insufficient_evidence: say so rather than guessing. Quote the citations you use."
)

Sources = Annotated[
    list[str] | None, Field(description="Only these outlets (exact names, see list_articles).")
]
Since = Annotated[
    datetime | None, Field(description="Only articles published at or after this time (ISO 8601).")
]
Until = Annotated[
    datetime | None, Field(description="Only articles published at or before this time (ISO 8601).")
]
AsOf = Annotated[
    datetime | None, Field(description="Resolve relative dates ('last week') against this time.")
]


@contextmanager
def tool_errors() -> Iterator[None]:
    """What the caller can act on becomes a tool error with the reason (the model reads it); the rest is a crash
    that the SDK reports as a bare tool error and logs."""
    try:
        yield
    except NewsRequestError as exc:
        raise ToolError(str(exc)) from exc
    except NewsdeskError as exc:
        raise ToolError(f"{exc.code}: {exc.message}") from exc


class NewsMCP(MCPServer[Any]):
    """An MCPServer whose resource list is the articles themselves, read from the backend on each request."""

    def __init__(self, backend: NewsBackend, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend

    async def list_resources(self) -> list[ResourceInfo]:
        listed = await anyio.to_thread.run_sync(self._article_resources)
        return [*await super().list_resources(), *listed]

    def _article_resources(self) -> list[ResourceInfo]:
        resources: list[ResourceInfo] = []
        while len(resources) < MAX_LISTED_RESOURCES:
            page = self.backend.articles(Where(), "", 200, len(resources))
            for item in page.items:
                date = item.published_at.date().isoformat() if item.published_at else "undated"
                resources.append(
                    ResourceInfo(
                        uri=ARTICLE_URI.format(article_id=item.id),
                        name=item.id,
                        title=item.title,
                        description=f"{item.source or 'unknown outlet'}, {date}",
                        mime_type="application/json",
                    )
                )
            if not page.items or len(resources) >= page.total:
                break
        return resources


def build_server(backend: NewsBackend) -> NewsMCP:
    server = NewsMCP(backend, name="newsdesk", instructions=INSTRUCTIONS, version="0.1.0")

    def run(action: Callable[[], T]) -> T:
        with tool_errors():
            return action()

    @server.tool(
        description="Answer a question from the news articles. Every sentence of the answer cites the passages it "
        "came from (citations: article_id, title, source, url, published_at, verbatim quote and its start/end "
        "character span in the article body) and was verified against them; short_answer is the direct answer "
        "taken verbatim from a cited passage, answerability (0-1) how well the passages answer. status is "
        "'answered' or 'insufficient_evidence' (the articles do not hold the answer: nothing is made up)."
    )
    def ask_news(
        question: Annotated[str, Field(description="The question, in plain words.")],
        sources: Sources = None,
        since: Since = None,
        until: Until = None,
        as_of: AsOf = None,
        k: Annotated[int | None, Field(ge=1, le=50, description="Passages to read (default 8).")] = None,
    ) -> Answer:
        return run(lambda: backend.ask(question, Where(sources, since, until, as_of), k))

    @server.tool(
        description="Search the news articles without writing an answer: the best passages first, each with its "
        "article's id, title, outlet, date, url and the start/end character span of the passage text in the "
        "article body (chunk.text == body[chunk.start:chunk.end]). Use it to find evidence or article ids."
    )
    def search_news(
        query: Annotated[str, Field(description="What to look for.")],
        sources: Sources = None,
        since: Since = None,
        until: Until = None,
        as_of: AsOf = None,
        k: Annotated[int | None, Field(ge=1, le=50, description="Passages to return (default 8).")] = None,
    ) -> SearchResponse:
        where = Where(sources, since, until, as_of)
        return run(lambda: SearchResponse(query=query, passages=backend.search(query, where, k)))

    @server.tool(
        description="Summarise news: kind 'brief' (one article: give exactly one article id), 'digest' (several "
        "articles, outlet by outlet: a topic, article ids or filters) or 'timeline' (a story's dated events in "
        "date order). Every sentence is taken from the articles, cited and verified; nothing supported left is "
        "status 'insufficient_evidence'. An unknown article id is an error."
    )
    def summarize_news(
        kind: Annotated[
            Literal["brief", "digest", "timeline"], Field(description="brief | digest | timeline")
        ],
        article_ids: Annotated[list[str] | None, Field(description="Articles to summarise.")] = None,
        topic: Annotated[str | None, Field(description="Find the articles by searching this text.")] = None,
        sources: Sources = None,
        since: Since = None,
        until: Until = None,
        as_of: AsOf = None,
        max_sentences: Annotated[int | None, Field(ge=1, le=20, description="At most this many.")] = None,
    ) -> Summary:
        def summarize() -> Summary:
            where = Where(sources, since, until, as_of)
            return backend.summarize(summary_request(kind, article_ids or [], topic, where, max_sentences))

        return run(summarize)

    @server.tool(
        description="List the news articles held, newest first (id, title, source, url, published_at, author, "
        "category) with the total count; filter by outlets, period and words in the title or body. Read an "
        "article's full text as the resource newsdesk://articles/{id}."
    )
    def list_articles(
        sources: Sources = None,
        since: Since = None,
        until: Until = None,
        text: Annotated[str, Field(max_length=200, description="Words in the title or body.")] = "",
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> ArticleList:
        return run(lambda: backend.articles(Where(sources, since, until), text.strip(), limit, offset))

    @server.resource(
        ARTICLE_URI,
        name="article",
        description="A news article: its metadata and full body (citation spans are offsets into the body).",
        mime_type="application/json",
    )
    def article(article_id: str) -> str:
        try:
            detail = backend.article(article_id)
        except (NewsRequestError, NewsdeskError) as exc:
            if isinstance(exc, NewsdeskError) and exc.status != 404:
                raise
            raise ResourceNotFoundError(f"no article with id {article_id!r}") from exc
        return json.dumps(
            detail.model_dump(mode="json", exclude={"chunks", "content_hash"}), ensure_ascii=False
        )

    return server
