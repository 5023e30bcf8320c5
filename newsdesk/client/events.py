"""Typed events of the ask and chat streams (docs/API.md, "Streaming"), and the server-sent-events reader.

Order: ``meta``; ``delta`` (raw model text as it is generated: model writers only, not verified, may be dropped);
each ``citation`` before the first sentence that uses it; each verified ``sentence``; ``final`` (the whole reply).
An ``error`` event is raised as the matching ``NewsdeskError`` instead of being yielded; events this client does
not know are skipped.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from newsdesk.client.errors import error_for
from rag.types import Answer, AnswerSentence, ChatReply, Citation


class MetaEvent(BaseModel):
    event: Literal["meta"] = "meta"
    conversation_id: str | None = None
    turn: int | None = None
    retrieval_queries: list[str]
    writer: str
    prompt_id: str | None = None


class DeltaEvent(BaseModel):
    event: Literal["delta"] = "delta"
    text: str


class CitationEvent(BaseModel):
    event: Literal["citation"] = "citation"
    citation: Citation


class SentenceEvent(BaseModel):
    event: Literal["sentence"] = "sentence"
    index: int
    sentence: AnswerSentence


class AskFinalEvent(BaseModel):
    event: Literal["final"] = "final"
    answer: Answer


class ChatFinalEvent(BaseModel):
    event: Literal["final"] = "final"
    reply: ChatReply


AskEvent = MetaEvent | DeltaEvent | CitationEvent | SentenceEvent | AskFinalEvent
ChatEvent = MetaEvent | DeltaEvent | CitationEvent | SentenceEvent | ChatFinalEvent


@dataclass(frozen=True)
class RawEvent:
    name: str
    data: str


class SSEReader:
    """Feed it lines of a text/event-stream; it returns each complete event (comments and pings are skipped)."""

    def __init__(self) -> None:
        self._name = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> RawEvent | None:
        if line == "":
            if not self._data:
                self._name = "message"
                return None
            event = RawEvent(self._name, "\n".join(self._data))
            self._name, self._data = "message", []
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._name = value
        elif field == "data":
            self._data.append(value)
        return None


def parse_ask_event(raw: RawEvent, request_id: str | None) -> AskEvent | None:
    data = _data(raw, request_id)
    if raw.name == "final":
        return AskFinalEvent(answer=Answer.model_validate(data))
    return _common_event(raw.name, data)


def parse_chat_event(raw: RawEvent, request_id: str | None) -> ChatEvent | None:
    data = _data(raw, request_id)
    if raw.name == "final":
        return ChatFinalEvent(reply=ChatReply.model_validate(data))
    return _common_event(raw.name, data)


def _data(raw: RawEvent, request_id: str | None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw.data)
    if raw.name == "error":
        # The stream had started (HTTP 200) when the failure happened: the code says what it was.
        raise error_for(str(data.get("code")), str(data.get("message")), 200, request_id)
    return data


def _common_event(
    name: str, data: dict[str, Any]
) -> MetaEvent | DeltaEvent | CitationEvent | SentenceEvent | None:
    if name == "meta":
        return MetaEvent.model_validate(data)
    if name == "delta":
        return DeltaEvent.model_validate(data)
    if name == "citation":
        return CitationEvent(citation=Citation.model_validate(data))
    if name == "sentence":
        index = data.pop("index")
        return SentenceEvent(index=index, sentence=AnswerSentence.model_validate(data))
    return None  # an event a newer server sends: skipped, so this client keeps working


def raw_events(lines: Iterator[str]) -> Iterator[RawEvent]:
    reader = SSEReader()
    for line in lines:
        event = reader.feed(line)
        if event is not None:
            yield event


async def araw_events(lines: AsyncIterator[str]) -> AsyncIterator[RawEvent]:
    reader = SSEReader()
    async for line in lines:
        event = reader.feed(line)
        if event is not None:
            yield event
