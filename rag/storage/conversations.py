"""Chat conversations kept in memory (the default): thread-safe and bounded. With NEWSDESK_DATABASE_URL they live in
the database instead (rag/storage/conversations_db.py), shared by every replica; both satisfy ``Conversations``.

Bounds (settings ``chat_max_conversations``, ``chat_max_turns``, ``chat_idle_expiry_s``): beyond the maximum the
least recently used conversation is dropped, each conversation keeps only its latest turns, and one unused for the
idle expiry is forgotten (an expired id reads as unknown). Ids are ``secrets.token_urlsafe`` values, so they cannot be
guessed. In memory nothing is persisted: a restart forgets every conversation.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rag.settings import Settings
from rag.types import Answer, Frozen


class ConversationNotFound(LookupError):
    """No conversation has this id (never created, deleted, expired or dropped for space)."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"no conversation with id {conversation_id!r} (unknown, deleted or expired)")
        self.conversation_id = conversation_id


class ChatTurn(Frozen):
    turn: int
    message: str
    retrieval_queries: list[str]
    answer: Answer


class Conversation(Frozen):
    conversation_id: str
    turns: list[ChatTurn]


class Conversations(Protocol):
    """What chat needs from a conversation store (in memory here, or rag/storage/conversations_db.py)."""

    def __len__(self) -> int: ...
    def create(self) -> str: ...
    def get(self, conversation_id: str) -> Conversation: ...
    def start_turn(self, conversation_id: str) -> tuple[int, list[ChatTurn]]: ...
    def record(self, conversation_id: str, turn: ChatTurn) -> None: ...
    def delete(self, conversation_id: str) -> bool: ...


@dataclass
class _Entry:
    turns: deque[ChatTurn]
    last_used: float
    turns_started: int = 0


class Bounds:
    """The bounds every conversation store keeps, checked once; ``clock`` reads the time idle expiry counts in."""

    def __init__(
        self, max_conversations: int, max_turns: int, idle_expiry_s: float, clock: Callable[[], float]
    ) -> None:
        if max_conversations < 1 or max_turns < 1 or idle_expiry_s <= 0:
            raise ValueError("conversation bounds must be positive")
        self.max_conversations = max_conversations
        self.max_turns = max_turns
        self.idle_expiry_s = idle_expiry_s
        self._clock = clock


class ConversationStore(Bounds):
    def __init__(
        self,
        max_conversations: int = 1000,
        max_turns: int = 20,
        idle_expiry_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_conversations, max_turns, idle_expiry_s, clock)
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ConversationStore:
        return cls(settings.chat_max_conversations, settings.chat_max_turns, settings.chat_idle_expiry_s)

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._entries)

    def create(self) -> str:
        with self._lock:
            now = self._clock()
            self._expire(now)
            while len(self._entries) >= self.max_conversations:
                self._entries.popitem(last=False)
            conversation_id = secrets.token_urlsafe(16)
            self._entries[conversation_id] = _Entry(turns=deque(maxlen=self.max_turns), last_used=now)
            return conversation_id

    def get(self, conversation_id: str) -> Conversation:
        with self._lock:
            entry = self._touch(conversation_id)
            return Conversation(conversation_id=conversation_id, turns=list(entry.turns))

    def start_turn(self, conversation_id: str) -> tuple[int, list[ChatTurn]]:
        """Number the next turn (1-based, never reused) and return the history it follows."""
        with self._lock:
            entry = self._touch(conversation_id)
            entry.turns_started += 1
            return entry.turns_started, list(entry.turns)

    def record(self, conversation_id: str, turn: ChatTurn) -> None:
        """Keep a finished turn; the oldest turn beyond ``max_turns`` is dropped."""
        with self._lock:
            entry = self._touch(conversation_id)
            entry.turns.append(turn)
            if len(entry.turns) > 1 and entry.turns[-2].turn > turn.turn:
                # Two requests in one conversation finished out of order: keep the history in turn order.
                ordered = sorted(entry.turns, key=lambda t: t.turn)
                entry.turns.clear()
                entry.turns.extend(ordered)

    def delete(self, conversation_id: str) -> bool:
        with self._lock:
            self._expire(self._clock())
            return self._entries.pop(conversation_id, None) is not None

    def _touch(self, conversation_id: str) -> _Entry:
        now = self._clock()
        self._expire(now)
        entry = self._entries.get(conversation_id)
        if entry is None:
            raise ConversationNotFound(conversation_id)
        entry.last_used = now
        self._entries.move_to_end(conversation_id)
        return entry

    def _expire(self, now: float) -> None:
        # Entries are in last-used order, so the expired ones are at the front.
        while self._entries:
            oldest_id, oldest = next(iter(self._entries.items()))
            if now - oldest.last_used < self.idle_expiry_s:
                break
            del self._entries[oldest_id]
