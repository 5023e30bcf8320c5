"""The request behind each client method, built once for both the sync and the async client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from api.schemas import ArticleDetail, ArticleList, ConversationOut, Health, IngestResponse, SourceList
from api.schemas_feeds import FeedList, FeedOut, RefreshOut
from api.schemas_search import SearchResponse
from newsdesk.client._calls import Call, Scope, article_record, scope_body
from rag.types import Answer, Article, ChatReply, Summary

SummaryKind = Literal["brief", "digest", "timeline"]


def _id(value: str) -> str:
    return quote(value, safe="")


def health() -> Call[Health]:
    return Call("GET", "/healthz", Health, safe=True)


def ask(question: str, scope: Scope, stream: bool = False) -> Call[Answer]:
    body = {"question": question, **scope_body(scope), "stream": stream}
    return Call("POST", "/v1/ask", Answer, body, safe=True)


def search(query: str, scope: Scope) -> Call[SearchResponse]:
    return Call("POST", "/v1/search", SearchResponse, {"query": query, **scope_body(scope)}, safe=True)


def chat(message: str, conversation_id: str | None, scope: Scope, stream: bool = False) -> Call[ChatReply]:
    body: dict[str, Any] = {"message": message, **scope_body(scope), "stream": stream}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    # A turn is recorded in the conversation: never re-sent once it may have reached the server.
    return Call("POST", "/v1/chat", ChatReply, body)


def conversation(conversation_id: str) -> Call[ConversationOut]:
    return Call("GET", f"/v1/conversations/{_id(conversation_id)}", ConversationOut, safe=True)


def forget_conversation(conversation_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/conversations/{_id(conversation_id)}", type(None))


def summarize(
    kind: SummaryKind,
    article_ids: Sequence[str],
    topic: str | None,
    max_sentences: int | None,
    scope: Scope,
) -> Call[Summary]:
    body: dict[str, Any] = {"kind": kind, "article_ids": list(article_ids), **scope_body(scope)}
    body.pop("k", None)  # summaries choose their own passages
    if topic is not None:
        body["topic"] = topic
    if max_sentences is not None:
        body["max_sentences"] = max_sentences
    return Call("POST", "/v1/summaries", Summary, body, safe=True)


def ingest(articles: Iterable[Mapping[str, Any] | Article]) -> Call[IngestResponse]:
    body = {"articles": [article_record(a) for a in articles]}
    return Call("POST", "/v1/ingest", IngestResponse, body)


def articles(
    sources: Sequence[str],
    since: datetime | str | None,
    until: datetime | str | None,
    text: str,
    limit: int,
    offset: int,
) -> Call[ArticleList]:
    params: list[tuple[str, str | int | float | bool | None]] = [("source", s) for s in sources]
    for name, value in (("since", since), ("until", until)):
        if value is not None:
            params.append((name, value.isoformat() if isinstance(value, datetime) else value))
    params += [("text", text)] if text else []
    params += [("limit", str(limit)), ("offset", str(offset))]
    return Call("GET", "/v1/articles", ArticleList, params=params, safe=True)


def article(article_id: str) -> Call[ArticleDetail]:
    return Call("GET", f"/v1/articles/{_id(article_id)}", ArticleDetail, safe=True)


def delete_article(article_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/articles/{_id(article_id)}", type(None))


def sources() -> Call[SourceList]:
    return Call("GET", "/v1/sources", SourceList, safe=True)


def feeds() -> Call[FeedList]:
    return Call("GET", "/v1/feeds", FeedList, safe=True)


def add_feed(url: str) -> Call[FeedOut]:
    return Call("POST", "/v1/feeds", FeedOut, {"url": url})


def refresh_feeds(feed_ids: Sequence[int] | None) -> Call[RefreshOut]:
    return Call(
        "POST", "/v1/feeds/refresh", RefreshOut, {"feeds": list(feed_ids) if feed_ids is not None else None}
    )
