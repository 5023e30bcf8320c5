"""Chat over the news (follow-ups resolved from the conversation), and the event streams of ask and chat.

Events, in order (docs/API.md, "Streaming"): ``meta``; ``delta`` (raw model text as it is generated, model writers
only: not verified, may be dropped); then, once the complete draft is verified, each ``citation`` before the first
sentence that uses it and each ``sentence`` in answer order; ``final`` (the whole reply). Failures are raised to the
caller, which turns them into an ``error`` event.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from rag.answering.compose import NO_ANSWER
from rag.answering.followup import PreviousTurn, retrieval_queries
from rag.llm.llms import ModelWriter
from rag.pipeline import (
    Services,
    answer_from_passages,
    missing_terms,
    no_answer,
    search_many,
    verified_answer,
)
from rag.storage.conversations import ChatTurn, Conversations
from rag.types import Answer, ChatReply, Filters

EventName = Literal["meta", "delta", "citation", "sentence", "final"]


@dataclass(frozen=True)
class Event:
    name: EventName
    data: dict[str, Any]


@dataclass(frozen=True)
class ChatStart:
    """A turn that has begun: its conversation, its number and the queries it will search."""

    conversation_id: str
    turn: int
    message: str
    queries: list[str]


def previous_turn(history: Sequence[ChatTurn]) -> PreviousTurn | None:
    if not history:
        return None
    last = history[-1]
    return PreviousTurn(
        query=last.retrieval_queries[0] if last.retrieval_queries else last.message,
        answer=last.answer.answer,
        answered=last.answer.status == "answered",
    )


def resolve_exchanges(services: Services, exchanges: Sequence[tuple[str, str]]) -> PreviousTurn | None:
    """The last turn of a history given as (question, answer text) pairs, each question resolved in its context
    (for a client that keeps the conversation itself, as OpenAI chat clients do)."""
    previous: PreviousTurn | None = None
    sources = services.retriever.known_sources()
    for question, answer in exchanges:
        queries = retrieval_queries(question, previous, sources)
        answered = bool(answer.strip()) and answer.strip() != NO_ANSWER
        previous = PreviousTurn(query=queries[0], answer=answer, answered=answered)
    return previous


def start_chat(
    services: Services, conversations: Conversations, message: str, conversation_id: str | None
) -> ChatStart:
    """Begin a turn; raises ``ConversationNotFound`` for an unknown id and ``ValueError`` for an empty message."""
    message = message.strip()
    if not message:
        raise ValueError("the message is empty")
    if conversation_id is None:
        conversation_id = conversations.create()
    turn, history = conversations.start_turn(conversation_id)
    queries = retrieval_queries(message, previous_turn(history), services.retriever.known_sources())
    return ChatStart(conversation_id, turn, message, queries)


def answer_events(
    services: Services,
    question: str,
    queries: Sequence[str],
    filters: Filters | None = None,
    k: int | None = None,
    as_of: datetime | None = None,
    *,
    stream_model: bool = True,
) -> Generator[Event, None, Answer]:
    """Retrieve over the queries, write, verify; yields delta/citation/sentence events and returns the Answer.

    The writer is given the first query (a follow-up's standalone rewrite, which says what the message is about);
    the answer's ``question`` stays the caller's own words.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    # The names in the caller's own words must be in the corpus; the rewrite only adds words from earlier turns.
    missing = missing_terms(services, question)
    passages = (
        [] if missing else search_many(services, queries, k or services.settings.retrieve_k, filters, as_of)
    )
    timings["retrieve_ms"] = _ms(started)
    writer = services.writer
    if not passages:
        answer = no_answer(services, question, timings, missing)
    elif stream_model and isinstance(writer, ModelWriter):
        write_started = time.perf_counter()
        pieces: list[str] = []
        for piece in writer.stream(queries[0], passages):
            pieces.append(piece)
            yield Event("delta", {"text": piece})
        draft = writer.draft("".join(pieces), passages, queries[0])
        timings["write_ms"] = _ms(write_started)
        answer = verified_answer(services, question, draft, passages, timings)
    else:
        answer = answer_from_passages(services, question, passages, timings, writer_question=queries[0])
    answer = answer.model_copy(update={"timings": {**answer.timings, "total_ms": _ms(started)}})
    yield from sentence_events(answer)
    return answer


def sentence_events(answer: Answer) -> Iterator[Event]:
    """Each citation before the first sentence that uses it, and the sentences in answer order."""
    by_number = {citation.n: citation for citation in answer.citations}
    sent: set[int] = set()
    for index, sentence in enumerate(answer.sentences):
        for n in sentence.citations:
            if n not in sent and n in by_number:
                sent.add(n)
                yield Event("citation", by_number[n].model_dump(mode="json"))
        yield Event("sentence", {"index": index, **sentence.model_dump(mode="json")})


def meta_event(services: Services, queries: Sequence[str], start: ChatStart | None = None) -> Event:
    data: dict[str, Any] = {}
    if start is not None:
        data = {"conversation_id": start.conversation_id, "turn": start.turn}
    data |= {
        "retrieval_queries": list(queries),
        "writer": services.writer.name,
        "prompt_id": services.writer.prompt_id,
    }
    return Event("meta", data)


def ask_events(
    services: Services,
    question: str,
    filters: Filters | None = None,
    k: int | None = None,
    as_of: datetime | None = None,
) -> Iterator[Event]:
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    yield meta_event(services, [question])
    answer = yield from answer_events(services, question, [question], filters, k, as_of)
    yield Event("final", answer.model_dump(mode="json"))


def chat_events(
    services: Services,
    conversations: Conversations,
    start: ChatStart,
    filters: Filters | None = None,
    k: int | None = None,
    as_of: datetime | None = None,
) -> Iterator[Event]:
    """The events of a turn begun with ``start_chat`` (begun first, so an unknown id is a 404, not a stream)."""
    yield meta_event(services, start.queries, start)
    answer = yield from answer_events(services, start.message, start.queries, filters, k, as_of)
    reply = finish_chat(conversations, start, answer)
    yield Event("final", reply.model_dump(mode="json"))


def finish_chat(conversations: Conversations, start: ChatStart, answer: Answer) -> ChatReply:
    conversations.record(
        start.conversation_id,
        ChatTurn(turn=start.turn, message=start.message, retrieval_queries=start.queries, answer=answer),
    )
    return ChatReply(
        conversation_id=start.conversation_id,
        turn=start.turn,
        retrieval_queries=start.queries,
        answer=answer,
    )


def chat(
    services: Services,
    conversations: Conversations,
    message: str,
    conversation_id: str | None = None,
    filters: Filters | None = None,
    k: int | None = None,
    as_of: datetime | None = None,
) -> ChatReply:
    """One chat turn: a new conversation when ``conversation_id`` is None, else a turn that follows its history."""
    start = start_chat(services, conversations, message, conversation_id)
    return complete_chat(services, conversations, start, filters, k, as_of)


def complete_chat(
    services: Services,
    conversations: Conversations,
    start: ChatStart,
    filters: Filters | None = None,
    k: int | None = None,
    as_of: datetime | None = None,
) -> ChatReply:
    """Answer a turn begun with ``start_chat`` and record it."""
    answer = drain(
        answer_events(services, start.message, start.queries, filters, k, as_of, stream_model=False)
    )
    return finish_chat(conversations, start, answer)


def drain(events: Generator[Event, None, Answer]) -> Answer:
    """Run an answer's event generator to its end and return its Answer."""
    while True:
        try:
            next(events)
        except StopIteration as done:
            answer: Answer = done.value
            return answer


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
