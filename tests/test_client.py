"""newsdesk.client against a real uvicorn server (`newsdesk serve`) holding the 16 fictional sample articles: every
method, the typed stream events, each error class and the async client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localhttp import Reply, Site, serve
from test_feeds import XML, rss

from evals.server import ServerFailed, free_port, running_server
from newsdesk.client import (
    AskFinalEvent,
    AsyncNewsdesk,
    ChatFinalEvent,
    CitationEvent,
    ClientOptions,
    ConnectionFailed,
    InvalidRequest,
    MetaEvent,
    Newsdesk,
    NewsdeskError,
    NotFound,
    RateLimited,
    SentenceEvent,
    TooLarge,
    Unauthorized,
)
from rag.types import Answer

pytestmark = [pytest.mark.server, pytest.mark.integration]

QUESTION = "How high did the Tamsin River crest?"


@pytest.fixture
def news(news_server: str, news_key: str) -> Iterator[Newsdesk]:
    with Newsdesk(news_server, news_key) as client:
        yield client


@pytest.fixture(scope="module")
def scratch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty server (hashing embedder, no keys) that tests may write to."""
    folder = tmp_path_factory.mktemp("scratch")
    try:
        # No feed scheduler: adding a feed wakes it, and its refresh would hold the feed's lease while the test's
        # own refresh runs (which then reports the feed busy).
        env = {"NEWSDESK_EMBEDDER": "hashing", "NEWSDESK_FEED_SCHEDULER": "false"}
        with running_server(folder / "data", folder / "log", env) as base:
            yield base
    except ServerFailed as exc:
        pytest.fail(str(exc))


def assert_cited(news: Newsdesk, answer: Answer) -> None:
    assert answer.citations
    for citation in answer.citations:
        body = news.article(citation.article_id).body
        assert body[citation.start : citation.end] == citation.quote
    if answer.short_answer is not None:  # the reader's direct answer, when the server's writer gives one
        cited = {c.n: c for c in answer.citations}[answer.short_answer.citation]
        body = news.article(cited.article_id).body
        assert answer.short_answer.start < answer.short_answer.end <= len(body)


def test_reads_and_answers(news: Newsdesk) -> None:
    health = news.health()
    assert health.status == "ok" and health.articles == 16 and "MiniLM" in health.embedder
    counts = {item.source: item.articles for item in news.sources().items}
    assert sum(counts.values()) == 16 and counts["Valley Wire"] == 4

    listed = news.articles(sources=["Valley Wire"], since="2026-09-25T00:00:00Z", limit=2)
    assert listed.total == 3 and len(listed.items) == 2
    assert all(item.source == "Valley Wire" for item in listed.items)
    detail = news.article("fict-003")
    assert detail.title.startswith("Tamsin River crests") and detail.chunks
    for chunk in detail.chunks:
        assert detail.body[chunk.start : chunk.end] == chunk.text

    found = news.search(QUESTION, k=3)
    assert found.query == QUESTION and 1 <= len(found.passages) <= 3
    assert found.passages[0].chunk.article_id == "fict-003"
    top = found.passages[0].chunk
    assert detail.body[top.start : top.end] == top.text
    only = news.search("flood", sources=["Valley Wire"], k=5)
    assert only.passages and {p.source for p in only.passages} == {"Valley Wire"}

    answer = news.ask(QUESTION)
    assert answer.status == "answered" and "6.4" in answer.answer
    assert_cited(news, answer)
    assert "answerability" in Answer.model_fields and "short_answer" in Answer.model_fields
    off_topic = news.ask("What is a good recipe for sourdough bread?")
    assert off_topic.status == "insufficient_evidence" and not off_topic.citations

    brief = news.summarize("brief", article_ids=["fict-007"], max_sentences=2)
    assert brief.kind == "brief" and brief.articles == ["fict-007"] and 1 <= len(brief.sentences) <= 2
    timeline = news.summarize("timeline", topic="Port Halden ferry strike", sources=["The Harbor Ledger"])
    assert timeline.status == "answered" and {c.source for c in timeline.citations} == {"The Harbor Ledger"}


def test_conversation_keeps_its_id(news: Newsdesk) -> None:
    conversation = news.conversation()
    first = conversation.say("What did the Northfield council approve in its 7-2 vote?")
    assert first.turn == 1 and conversation.id == first.conversation_id
    second = conversation.say("How much will it cost?")
    assert (second.conversation_id, second.turn) == (first.conversation_id, 2)
    assert "18.6" in second.answer.answer
    history = news.get_conversation(first.conversation_id)
    assert [t.message for t in history.turns] == [
        "What did the Northfield council approve in its 7-2 vote?",
        "How much will it cost?",
    ]
    news.forget_conversation(first.conversation_id)
    with pytest.raises(NotFound):
        news.get_conversation(first.conversation_id)
    with pytest.raises(NotFound):
        news.chat("And then?", conversation_id=first.conversation_id)


def test_ask_stream_yields_typed_events(news: Newsdesk) -> None:
    events = list(news.ask_stream(QUESTION, k=4))
    assert isinstance(events[0], MetaEvent) and events[0].retrieval_queries == [QUESTION]
    final = events[-1]
    assert isinstance(final, AskFinalEvent) and final.answer.status == "answered"
    sentences = [e for e in events if isinstance(e, SentenceEvent)]
    assert [e.sentence for e in sentences] == final.answer.sentences
    assert [e.index for e in sentences] == list(range(len(sentences)))
    cited_so_far: set[int] = set()
    for event in events:  # each citation arrives before the first sentence that uses it
        if isinstance(event, CitationEvent):
            cited_so_far.add(event.citation.n)
        elif isinstance(event, SentenceEvent):
            assert set(event.sentence.citations) <= cited_so_far
    streamed = [e.citation for e in events if isinstance(e, CitationEvent)]
    assert sorted(streamed, key=lambda c: c.n) == sorted(final.answer.citations, key=lambda c: c.n)


def test_chat_stream_continues_a_conversation(news: Newsdesk) -> None:
    conversation = news.conversation()
    conversation.say("Who scored the winning goal in the Coastal Cup final?")
    events = list(conversation.say_stream("In which minute?"))
    meta, final = events[0], events[-1]
    assert isinstance(meta, MetaEvent) and meta.conversation_id == conversation.id and meta.turn == 2
    assert isinstance(final, ChatFinalEvent) and final.reply.turn == 2
    assert final.reply.answer.status == "answered"


def test_errors_are_typed(news: Newsdesk, news_server: str, sample_articles: list[dict[str, Any]]) -> None:
    with Newsdesk(news_server) as anonymous, pytest.raises(Unauthorized) as unauthorized:
        anonymous.ask(QUESTION)
    assert unauthorized.value.status == 401 and unauthorized.value.code == "unauthorized"
    assert unauthorized.value.request_id and "Authorization" in unauthorized.value.message
    with Newsdesk(news_server, "not-the-key-not-the-key") as wrong, pytest.raises(Unauthorized):
        wrong.sources()

    with pytest.raises(NotFound) as missing:
        news.article("no-such-article")
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert "no-such-article" in missing.value.message and missing.value.request_id
    with pytest.raises(NotFound):
        news.summarize("brief", article_ids=["no-such-article"])

    too_many = [dict(a, id=f"copy-{i}") for i, a in enumerate(sample_articles + sample_articles[:5])]
    with pytest.raises(TooLarge) as too_large:
        news.ingest(too_many)
    assert too_large.value.status == 413 and "20" in too_large.value.message
    assert news.health().articles == 16  # nothing half-written

    with pytest.raises(InvalidRequest) as invalid:
        news.ask(QUESTION, k=0)
    assert invalid.value.status == 422 and "k" in invalid.value.message
    with pytest.raises(InvalidRequest):
        news.search("x" * 5000)
    with pytest.raises(InvalidRequest):
        news.summarize("brief", article_ids=["fict-001", "fict-002"])


def test_rate_limit_is_rate_limited_with_retry_after(tmp_path: Path) -> None:
    env = {"NEWSDESK_EMBEDDER": "hashing", "NEWSDESK_RATE_LIMIT_PER_MINUTE": "1"}
    try:
        with running_server(tmp_path / "data", tmp_path / "log", env) as base:
            # A 429 asking to wait a minute is over max_retry_after_s: raised at once, not waited out.
            options = ClientOptions(max_retries=3, max_retry_after_s=5)
            with Newsdesk(base, options=options) as news:
                news.sources()  # the bucket's one token
                with pytest.raises(RateLimited) as limited:
                    news.sources()
    except ServerFailed as exc:
        pytest.fail(str(exc))
    assert limited.value.status == 429 and limited.value.code == "rate_limited"
    assert limited.value.retry_after is not None and 5 < limited.value.retry_after <= 60


def test_unreachable_server_is_connection_failed_after_retries() -> None:
    options = ClientOptions(max_retries=2, backoff_s=0.01, connect_timeout_s=1)
    with Newsdesk(f"http://127.0.0.1:{free_port()}", options=options) as news:
        with pytest.raises(ConnectionFailed) as failed:
            news.health()
        with pytest.raises(ConnectionFailed):
            list(news.ask_stream(QUESTION))
    assert failed.value.status is None and isinstance(failed.value, NewsdeskError)


def test_ingest_delete_and_feeds(scratch_server: str, sample_articles: list[dict[str, Any]]) -> None:
    with Newsdesk(scratch_server) as news:
        report = news.ingest([*sample_articles[:2], {"title": "No body"}])
        assert (report.added, report.unchanged) == (2, 0)
        assert [r.index for r in report.rejected] == [2] and "body" in report.rejected[0].reason
        assert news.ingest(sample_articles[:2]).unchanged == 2
        news.delete_article("fict-001")
        with pytest.raises(NotFound):
            news.article("fict-001")
        with pytest.raises(NotFound):
            news.delete_article("fict-001")
        assert news.articles().total == 1

        site: Site
        with serve() as site:
            site.routes["/rss"] = Reply(
                body=rss("Wire", [("ferry", site.url("/news/ferry"), "The ferry story.")]), headers=XML
            )
            site.routes["/news/ferry"] = Reply(
                body=(
                    "<html><head><title>Ferry deal</title></head><body><article><h1>Ferry deal</h1>"
                    + "<p>Fictional: the ferry workers ratified a deal on Friday evening.</p>" * 5
                    + "</article></body></html>"
                ).encode(),
                headers={"Content-Type": "text/html"},
            )
            feed = news.add_feed(site.url("/rss"))
            assert feed.url == site.url("/rss") and [f.id for f in news.feeds().items] == [feed.id]
            refreshed = news.refresh_feeds([feed.id])
            assert refreshed.counts["added"] == 1 and refreshed.feeds[0].status == "ok", refreshed
        with pytest.raises(InvalidRequest):
            news.add_feed("file:///etc/passwd")


def test_async_client(news_server: str, news_key: str) -> None:
    async def run() -> None:
        async with AsyncNewsdesk(news_server, news_key) as news:
            answer, found, health = await asyncio.gather(
                news.ask(QUESTION), news.search(QUESTION, k=2), news.health()
            )
            assert answer.status == "answered" and "6.4" in answer.answer
            assert found.passages[0].chunk.article_id == "fict-003" and health.articles == 16
            events = [event async for event in news.ask_stream(QUESTION)]
            assert isinstance(events[0], MetaEvent) and isinstance(events[-1], AskFinalEvent)
            assert events[-1].answer.answer == answer.answer
            conversation = news.conversation()
            await conversation.say("What did the Northfield council approve in its 7-2 vote?")
            chat_events = [event async for event in conversation.say_stream("How much will it cost?")]
            final = chat_events[-1]
            assert isinstance(final, ChatFinalEvent) and final.reply.turn == 2
            summary = await news.summarize("brief", article_ids=["fict-003"])
            assert summary.articles == ["fict-003"]
            assert (await news.articles(limit=1)).total == 16
            with pytest.raises(NotFound):
                await news.article("no-such-article")
        async with AsyncNewsdesk(news_server) as anonymous:
            with pytest.raises(Unauthorized):
                await anonymous.ask(QUESTION)

    asyncio.run(run())


def test_a_429_is_waited_out_and_retried(tmp_path: Path) -> None:
    env = {"NEWSDESK_EMBEDDER": "hashing", "NEWSDESK_RATE_LIMIT_PER_MINUTE": "60"}  # a token a second
    try:
        with running_server(tmp_path / "data", tmp_path / "log", env) as base:
            impatient = Newsdesk(base, options=ClientOptions(max_retries=0))
            with impatient, pytest.raises(RateLimited) as limited:
                for _ in range(100):  # the bucket holds 60
                    impatient.sources()
            assert limited.value.retry_after == 1
            with Newsdesk(base, options=ClientOptions(max_retries=3)) as patient:
                # The bucket is empty and refills a token a second: these can only pass by waiting out 429s.
                for _ in range(3):
                    assert patient.sources().items == []
    except ServerFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture
def hanging_up() -> Iterator[tuple[str, list[bytes]]]:
    """A real TCP server that reads each request and closes the connection without replying."""
    import socket
    import threading

    received: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve_forever() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                received.append(connection.recv(65536).split(b"\r\n", 1)[0])

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_only_requests_without_side_effects_are_resent(hanging_up: tuple[str, list[bytes]]) -> None:
    base, received = hanging_up
    with Newsdesk(base, options=ClientOptions(max_retries=2, backoff_s=0.01)) as news:
        with pytest.raises(ConnectionFailed):
            news.ask(QUESTION)
        assert received == [b"POST /v1/ask HTTP/1.1"] * 3  # no side effects: sent again, twice
        received.clear()
        with pytest.raises(ConnectionFailed):
            news.chat("What did the Northfield council approve?")
        with pytest.raises(ConnectionFailed):
            news.ingest([{"title": "A", "body": "Fictional."}])
        with pytest.raises(ConnectionFailed):
            list(news.chat_stream("And then?"))
        # A chat turn or an ingest may have happened on the server: never sent twice.
        assert received == [b"POST /v1/chat HTTP/1.1", b"POST /v1/ingest HTTP/1.1", b"POST /v1/chat HTTP/1.1"]
