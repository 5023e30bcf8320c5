"""``AsyncNewsdesk``: the asyncio client (httpx), method for method the same as ``Newsdesk``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, Unpack

import httpx

from api.schemas import ArticleDetail, ArticleList, ConversationOut, Health, IngestResponse, SourceList
from api.schemas_feeds import FeedList, FeedOut, RefreshOut
from api.schemas_search import SearchResponse
from newsdesk.client import _requests as requests
from newsdesk.client._calls import Call, ClientOptions, Scope, http_settings, parse, resolve, retry_delay
from newsdesk.client._requests import SummaryKind
from newsdesk.client.errors import ConnectionFailed, error_from_response
from newsdesk.client.events import (
    AskEvent,
    ChatEvent,
    MetaEvent,
    RawEvent,
    araw_events,
    parse_ask_event,
    parse_chat_event,
)
from rag.types import Answer, Article, ChatReply, Summary

T = TypeVar("T")
E = TypeVar("E")


class AsyncNewsdesk:
    """The asyncio twin of ``Newsdesk``: the same methods and arguments, awaited; streams are async iterators."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        options: ClientOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url, api_key = resolve(base_url, api_key)
        self.options = options or ClientOptions()
        self._http = httpx.AsyncClient(
            **http_settings(self.base_url, api_key, self.options), transport=transport
        )

    async def __aenter__(self) -> AsyncNewsdesk:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # Answers
    async def ask(self, question: str, **scope: Unpack[Scope]) -> Answer:
        """A cited, verified answer; ``status`` is "insufficient_evidence" when the news does not hold one."""
        return await self._run(requests.ask(question, scope))

    def ask_stream(self, question: str, **scope: Unpack[Scope]) -> AsyncIterator[AskEvent]:
        """The answer as typed events: meta, delta (model writers), citation, sentence, final (the Answer)."""
        return self._stream(requests.ask(question, scope, stream=True), parse_ask_event)

    async def search(self, query: str, **scope: Unpack[Scope]) -> SearchResponse:
        """The passages retrieval finds, best first, each with its article's character span; no answer written."""
        return await self._run(requests.search(query, scope))

    async def chat(
        self, message: str, conversation_id: str | None = None, **scope: Unpack[Scope]
    ) -> ChatReply:
        """A chat turn: a new conversation without ``conversation_id``; see ``conversation()`` to keep one."""
        return await self._run(requests.chat(message, conversation_id, scope))

    def chat_stream(
        self, message: str, conversation_id: str | None = None, **scope: Unpack[Scope]
    ) -> AsyncIterator[ChatEvent]:
        return self._stream(requests.chat(message, conversation_id, scope, stream=True), parse_chat_event)

    def conversation(self, conversation_id: str | None = None) -> AsyncConversation:
        """A conversation that keeps its id from turn to turn (a new one unless ``conversation_id`` is given)."""
        return AsyncConversation(self, conversation_id)

    async def get_conversation(self, conversation_id: str) -> ConversationOut:
        return await self._run(requests.conversation(conversation_id))

    async def forget_conversation(self, conversation_id: str) -> None:
        await self._run(requests.forget_conversation(conversation_id))

    async def summarize(
        self,
        kind: SummaryKind = "brief",
        *,
        article_ids: Sequence[str] = (),
        topic: str | None = None,
        max_sentences: int | None = None,
        **scope: Unpack[Scope],
    ) -> Summary:
        """A brief (one article id), digest or timeline (a topic, ids or filters), every sentence cited."""
        return await self._run(requests.summarize(kind, article_ids, topic, max_sentences, scope))

    # Articles and feeds
    async def ingest(self, articles: Iterable[Mapping[str, Any] | Article]) -> IngestResponse:
        return await self._run(requests.ingest(articles))

    async def articles(
        self,
        *,
        sources: Sequence[str] = (),
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        text: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> ArticleList:
        return await self._run(requests.articles(sources, since, until, text, limit, offset))

    async def article(self, article_id: str) -> ArticleDetail:
        """One article with its body and its chunks' offsets."""
        return await self._run(requests.article(article_id))

    async def delete_article(self, article_id: str) -> None:
        await self._run(requests.delete_article(article_id))

    async def sources(self) -> SourceList:
        return await self._run(requests.sources())

    async def feeds(self) -> FeedList:
        return await self._run(requests.feeds())

    async def add_feed(self, url: str) -> FeedOut:
        return await self._run(requests.add_feed(url))

    async def refresh_feeds(self, feed_ids: Sequence[int] | None = None) -> RefreshOut:
        return await self._run(requests.refresh_feeds(feed_ids))

    async def health(self) -> Health:
        return await self._run(requests.health())

    # Transport
    async def _run(self, call: Call[T]) -> T:
        return parse(call, await self._send(call))

    async def _send(self, call: Call[Any]) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, call.path, json=call.body, params=call.params
                )
            except httpx.TransportError as exc:
                delay = retry_delay(self.options, call, attempt, error=exc)
                if delay is None:
                    raise ConnectionFailed("connection_error", f"{type(exc).__name__}: {exc}") from exc
            else:
                if response.is_success:
                    return response
                delay = retry_delay(self.options, call, attempt, response=response)
                if delay is None:
                    raise error_from_response(response)
            await asyncio.sleep(delay)
            attempt += 1

    async def _stream(
        self, call: Call[Any], parse_event: Callable[[RawEvent, str | None], E | None]
    ) -> AsyncIterator[E]:
        response = await self._open_stream(call)
        request_id = response.headers.get("X-Request-ID")
        try:
            async for raw in araw_events(response.aiter_lines()):
                event = parse_event(raw, request_id)
                if event is not None:
                    yield event
        except httpx.TransportError as exc:
            raise ConnectionFailed("connection_error", f"the stream broke: {exc}") from exc
        finally:
            await response.aclose()

    async def _open_stream(self, call: Call[Any]) -> httpx.Response:
        """The streamed response once its status is a success: failures before the stream starts are retried as
        in ``_send``; a stream that breaks later is never re-sent."""
        attempt = 0
        while True:
            request = self._http.build_request(call.method, call.path, json=call.body)
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                delay = retry_delay(self.options, call, attempt, error=exc)
                if delay is None:
                    raise ConnectionFailed("connection_error", f"{type(exc).__name__}: {exc}") from exc
            else:
                if response.is_success:
                    return response
                await response.aread()
                await response.aclose()
                delay = retry_delay(self.options, call, attempt, response=response)
                if delay is None:
                    raise error_from_response(response)
            await asyncio.sleep(delay)
            attempt += 1


class AsyncConversation:
    """A chat whose turns follow each other: the first ``say`` starts it, later ones continue it."""

    def __init__(self, client: AsyncNewsdesk, conversation_id: str | None = None) -> None:
        self._client = client
        self.id = conversation_id

    async def say(self, message: str, **scope: Unpack[Scope]) -> ChatReply:
        reply = await self._client.chat(message, self.id, **scope)
        self.id = reply.conversation_id
        return reply

    async def say_stream(self, message: str, **scope: Unpack[Scope]) -> AsyncIterator[ChatEvent]:
        async for event in self._client.chat_stream(message, self.id, **scope):
            if isinstance(event, MetaEvent) and event.conversation_id:
                self.id = event.conversation_id
            yield event
