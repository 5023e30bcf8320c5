"""Chat conversations in the database (rag/storage/db.py): what `newsdesk serve` replicas share with
NEWSDESK_DATABASE_URL.

The same bounds and behaviour as the in-memory store (rag/storage/conversations.py): the least recently used
conversation goes beyond ``max_conversations``, each keeps its latest ``max_turns`` turns, and one unused for
``idle_expiry_s`` reads as unknown. Times are wall-clock epoch seconds, so replicas on several hosts agree on them.
A turn is numbered by one atomic UPDATE, so two replicas answering one conversation at once never draw the same
number.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from rag.settings import Settings
from rag.storage.conversations import (
    Bounds,
    ChatTurn,
    Conversation,
    ConversationNotFound,
    Conversations,
    ConversationStore,
)
from rag.storage.db import Database, Executor, open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, last_used REAL NOT NULL, turns_started INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_last_used ON conversations(last_used);
CREATE TABLE IF NOT EXISTS conversation_turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    turn INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (conversation_id, turn)
)
"""


class DatabaseConversationStore(Bounds):
    def __init__(
        self,
        db: Database,
        max_conversations: int = 1000,
        max_turns: int = 20,
        idle_expiry_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(max_conversations, max_turns, idle_expiry_s, clock)
        self._db = db
        db.migrate("conversations", [SCHEMA])

    def __len__(self) -> int:
        with self._db.transaction() as tx:
            self._expire(tx, self._clock())
            row = tx.query_one("SELECT COUNT(*) FROM conversations")
        return int(row[0]) if row is not None else 0

    def create(self) -> str:
        conversation_id = secrets.token_urlsafe(16)
        with self._db.transaction() as tx:
            now = self._clock()
            self._expire(tx, now)
            row = tx.query_one("SELECT COUNT(*) FROM conversations")
            excess = (int(row[0]) if row is not None else 0) - self.max_conversations + 1
            if excess > 0:
                tx.execute(
                    "DELETE FROM conversations WHERE id IN "
                    "(SELECT id FROM conversations ORDER BY last_used, id LIMIT ?)",
                    (excess,),
                )
            tx.execute("INSERT INTO conversations (id, last_used) VALUES (?, ?)", (conversation_id, now))
        return conversation_id

    def get(self, conversation_id: str) -> Conversation:
        with self._db.transaction() as tx:
            self._touch(tx, conversation_id)
            turns = self._turns(tx, conversation_id)
        return Conversation(conversation_id=conversation_id, turns=turns)

    def start_turn(self, conversation_id: str) -> tuple[int, list[ChatTurn]]:
        """Number the next turn (1-based, never reused) and return the history it follows."""
        with self._db.transaction() as tx:
            now = self._clock()
            row = tx.query_one(
                "UPDATE conversations SET turns_started = turns_started + 1, last_used = ? "
                "WHERE id = ? AND last_used > ? RETURNING turns_started",
                (now, conversation_id, now - self.idle_expiry_s),
            )
            if row is None:
                raise ConversationNotFound(conversation_id)
            return int(row[0]), self._turns(tx, conversation_id)

    def record(self, conversation_id: str, turn: ChatTurn) -> None:
        """Keep a finished turn; the oldest turns beyond ``max_turns`` are dropped."""
        with self._db.transaction() as tx:
            self._touch(tx, conversation_id)
            tx.execute(
                "INSERT INTO conversation_turns (conversation_id, turn, body) VALUES (?, ?, ?) "
                "ON CONFLICT (conversation_id, turn) DO UPDATE SET body = excluded.body",
                (conversation_id, turn.turn, turn.model_dump_json()),
            )
            tx.execute(
                "DELETE FROM conversation_turns WHERE conversation_id = ? AND turn NOT IN "
                "(SELECT turn FROM conversation_turns WHERE conversation_id = ? ORDER BY turn DESC LIMIT ?)",
                (conversation_id, conversation_id, self.max_turns),
            )

    def delete(self, conversation_id: str) -> bool:
        with self._db.transaction() as tx:
            self._expire(tx, self._clock())
            return tx.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)) > 0

    def close(self) -> None:
        self._db.close()

    def _touch(self, tx: Executor, conversation_id: str) -> None:
        now = self._clock()
        updated = tx.execute(
            "UPDATE conversations SET last_used = ? WHERE id = ? AND last_used > ?",
            (now, conversation_id, now - self.idle_expiry_s),
        )
        if updated == 0:
            raise ConversationNotFound(conversation_id)

    @staticmethod
    def _turns(tx: Executor, conversation_id: str) -> list[ChatTurn]:
        rows = tx.query(
            "SELECT body FROM conversation_turns WHERE conversation_id = ? ORDER BY turn", (conversation_id,)
        )
        return [ChatTurn.model_validate_json(r[0]) for r in rows]

    def _expire(self, tx: Executor, now: float) -> None:
        tx.execute("DELETE FROM conversations WHERE last_used <= ?", (now - self.idle_expiry_s,))


def open_conversations(settings: Settings) -> Conversations:
    """In the database with NEWSDESK_DATABASE_URL (shared by replicas), else in this process's memory."""
    if not settings.database_url:
        return ConversationStore.from_settings(settings)
    return DatabaseConversationStore(
        open_database(settings.database_url, settings.data_dir / "unused.sqlite3"),
        settings.chat_max_conversations,
        settings.chat_max_turns,
        settings.chat_idle_expiry_s,
    )
