"""``Newsdesk``: the synchronous client (httpx)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    parse_ask_event,
    parse_chat_event,
    raw_events,
)
from rag.types import Answer, Article, ChatReply, Summary

T = TypeVar("T")
E = TypeVar("E")


class Newsdesk:
    """A newsdesk server's API. ``base_url`` and ``api_key`` default to NEWSDESK_URL and NEWSDESK_API_KEY (else
    http://127.0.0.1:8000, no key). Every reply is the API's own typed model; every error a ``NewsdeskError``."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        options: ClientOptions | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url, api_key = resolve(base_url, api_key)
        self.options = options or ClientOptions()
        self._http = httpx.Client(**http_settings(self.base_url, api_key, self.options), transport=transport)

    def __enter__(self) -> Newsdesk:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # Answers
    def ask(self, question: str, **scope: Unpack[Scope]) -> Answer:
        """A cited, verified answer; ``status`` is "insufficient_evidence" when the news does not hold one."""
        return self._run(requests.ask(question, scope))

    def ask_stream(self, question: str, **scope: Unpack[Scope]) -> Iterator[AskEvent]:
        """The answer as typed events: meta, delta (model writers), citation, sentence, final (the Answer)."""
        return self._stream(requests.ask(question, scope, stream=True), parse_ask_event)

    def search(self, query: str, **scope: Unpack[Scope]) -> SearchResponse:
        """The passages retrieval finds, best first, each with its article's character span; no answer written."""
        return self._run(requests.search(query, scope))

    def chat(self, message: str, conversation_id: str | None = None, **scope: Unpack[Scope]) -> ChatReply:
        """A chat turn: a new conversation without ``conversation_id``; see ``conversation()`` to keep one."""
        return self._run(requests.chat(message, conversation_id, scope))

    def chat_stream(
        self, message: str, conversation_id: str | None = None, **scope: Unpack[Scope]
    ) -> Iterator[ChatEvent]:
        return self._stream(requests.chat(message, conversation_id, scope, stream=True), parse_chat_event)

    def conversation(self, conversation_id: str | None = None) -> Conversation:
        """A conversation that keeps its id from turn to turn (a new one unless ``conversation_id`` is given)."""
        return Conversation(self, conversation_id)

    def get_conversation(self, conversation_id: str) -> ConversationOut:
        return self._run(requests.conversation(conversation_id))

    def forget_conversation(self, conversation_id: str) -> None:
        self._run(requests.forget_conversation(conversation_id))

    def summarize(
        self,
        kind: SummaryKind = "brief",
        *,
        article_ids: Sequence[str] = (),
        topic: str | None = None,
        max_sentences: int | None = None,
        **scope: Unpack[Scope],
    ) -> Summary:
        """A brief (one article id), digest or timeline (a topic, ids or filters), every sentence cited."""
        return self._run(requests.summarize(kind, article_ids, topic, max_sentences, scope))

    # Articles and feeds
    def ingest(self, articles: Iterable[Mapping[str, Any] | Article]) -> IngestResponse:
        return self._run(requests.ingest(articles))

    def articles(
        self,
        *,
        sources: Sequence[str] = (),
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        text: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> ArticleList:
        return self._run(requests.articles(sources, since, until, text, limit, offset))

    def article(self, article_id: str) -> ArticleDetail:
        """One article with its body and its chunks' offsets."""
        return self._run(requests.article(article_id))

    def delete_article(self, article_id: str) -> None:
        self._run(requests.delete_article(article_id))

    def sources(self) -> SourceList:
        return self._run(requests.sources())

    def feeds(self) -> FeedList:
        return self._run(requests.feeds())

    def add_feed(self, url: str) -> FeedOut:
        return self._run(requests.add_feed(url))

    def refresh_feeds(self, feed_ids: Sequence[int] | None = None) -> RefreshOut:
        return self._run(requests.refresh_feeds(feed_ids))

    def health(self) -> Health:
        return self._run(requests.health())

    # Transport
    def _run(self, call: Call[T]) -> T:
        return parse(call, self._send(call))

    def _send(self, call: Call[Any]) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.path, json=call.body, params=call.params)
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
            time.sleep(delay)
            attempt += 1

    def _stream(
        self, call: Call[Any], parse_event: Callable[[RawEvent, str | None], E | None]
    ) -> Iterator[E]:
        response = self._open_stream(call)
        request_id = response.headers.get("X-Request-ID")
        try:
            for raw in raw_events(response.iter_lines()):
                event = parse_event(raw, request_id)
                if event is not None:
                    yield event
        except httpx.TransportError as exc:
            raise ConnectionFailed("connection_error", f"the stream broke: {exc}") from exc
        finally:
            response.close()

    def _open_stream(self, call: Call[Any]) -> httpx.Response:
        """The streamed response once its status is a success: failures before the stream starts are retried as
        in ``_send``; a stream that breaks later is never re-sent."""
        attempt = 0
        while True:
            request = self._http.build_request(call.method, call.path, json=call.body)
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                delay = retry_delay(self.options, call, attempt, error=exc)
                if delay is None:
                    raise ConnectionFailed("connection_error", f"{type(exc).__name__}: {exc}") from exc
            else:
                if response.is_success:
                    return response
                response.read()
                response.close()
                delay = retry_delay(self.options, call, attempt, response=response)
                if delay is None:
                    raise error_from_response(response)
            time.sleep(delay)
            attempt += 1


class Conversation:
    """A chat whose turns follow each other: the first ``say`` starts it, later ones continue it."""

    def __init__(self, client: Newsdesk, conversation_id: str | None = None) -> None:
        self._client = client
        self.id = conversation_id

    def say(self, message: str, **scope: Unpack[Scope]) -> ChatReply:
        reply = self._client.chat(message, self.id, **scope)
        self.id = reply.conversation_id
        return reply

    def say_stream(self, message: str, **scope: Unpack[Scope]) -> Iterator[ChatEvent]:
        for event in self._client.chat_stream(message, self.id, **scope):
            if isinstance(event, MetaEvent) and event.conversation_id:
                self.id = event.conversation_id
            yield event
