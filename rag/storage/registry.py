"""The article registry: the source of truth for which article versions and chunks exist.

SQLite (DATA_DIR/articles.sqlite3) by default, PostgreSQL with NEWSDESK_DATABASE_URL, through rag/storage/db.py.

Chroma holds the vectors; this holds article bodies, metadata, content hashes and chunk offsets. An article's row and
its chunk rows change in one transaction, so a retrieved chunk id that is not here (an orphan from an interrupted
ingest, or an old version being replaced) is never shown, and the keyword index follows these rows (article_changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from rag.storage.db import Database, Executor, Row, SqliteDatabase
from rag.types import Article, Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
    source TEXT NOT NULL, url TEXT NOT NULL, published_at TEXT, published_ts REAL,
    author TEXT NOT NULL, category TEXT NOT NULL, ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published_ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stories (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    signature BLOB NOT NULL, duplicate_of TEXT
);
CREATE INDEX IF NOT EXISTS stories_duplicate_of ON stories(duplicate_of);
-- Every article write, in order, logged in the writing transaction itself: derived indexes (the keyword index)
-- apply the articles changed since the change they last applied.
CREATE TABLE IF NOT EXISTS article_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL)
"""
# Data dirs made before the database adapter logged changes with SQLite triggers; the registry now logs them itself.
DROP_TRIGGERS = {
    "sqlite": "DROP TRIGGER IF EXISTS article_changes_insert; DROP TRIGGER IF EXISTS article_changes_update; "
    "DROP TRIGGER IF EXISTS article_changes_delete"
}
MIGRATIONS: list[str | dict[str, str]] = [SCHEMA, DROP_TRIGGERS]
# Registry writes run one at a time (see Database.transaction): change numbers become visible in order.
WRITES = "registry-writes"


class Registry:
    def __init__(self, db: Database | Path) -> None:
        """``db``: an open database (rag/storage/db.py), or the path of a SQLite file."""
        self.db = db if isinstance(db, Database) else SqliteDatabase(db)
        self.db.migrate("registry", MIGRATIONS)

    def _transaction(self) -> AbstractContextManager[Executor]:
        return self.db.transaction(serial=WRITES)

    def content_hash(self, article_id: str) -> str | None:
        row = self.db.query_one("SELECT content_hash FROM articles WHERE id = ?", (article_id,))
        return None if row is None else str(row["content_hash"])

    def chunk_ids(self, article_id: str) -> list[str]:
        return _chunk_ids(self.db, article_id)

    def replace(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        signature: bytes | None = None,
        duplicate_of: str | None = None,
    ) -> list[str]:
        """Store this version of the article and its chunks; return the ids of the chunks it replaced.

        ``signature`` (MinHash bytes) and ``duplicate_of`` (the earlier article this one is a syndicated copy of)
        group copies of one story."""
        published = article.published_at
        with self._transaction() as db:
            old = _chunk_ids(db, article.id)
            # The old version's row goes with its chunks and story entry (ON DELETE CASCADE), as a replace.
            db.execute("DELETE FROM articles WHERE id = ?", (article.id,))
            db.execute(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    article.id,
                    article.content_hash,
                    article.title,
                    article.body,
                    article.source,
                    article.url,
                    published.isoformat() if published else None,
                    published.timestamp() if published else None,
                    article.author,
                    article.category,
                    datetime.now().astimezone().isoformat(),
                ),
            )
            db.executemany(
                'INSERT INTO chunks (id, article_id, idx, start, "end", text) VALUES (?,?,?,?,?,?)',
                [(c.id, c.article_id, c.index, c.start, c.end, c.text) for c in chunks],
            )
            if signature is not None:
                db.execute("INSERT INTO stories VALUES (?,?,?)", (article.id, signature, duplicate_of))
            self._changed(db, article.id)
        new = {c.id for c in chunks}
        return [i for i in old if i not in new]

    def delete(self, article_id: str) -> list[str] | None:
        """Remove the article; return its chunk ids, or None when it did not exist."""
        with self._transaction() as db:
            if db.query_one("SELECT 1 FROM articles WHERE id = ?", (article_id,)) is None:
                return None
            ids = _chunk_ids(db, article_id)
            db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
            db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            # The story's remaining copies are re-grouped under the earliest of them.
            copies = [
                str(r[0])
                for r in db.query(
                    "SELECT s.article_id FROM stories s JOIN articles a ON a.id = s.article_id "
                    "WHERE s.duplicate_of = ? ORDER BY a.published_ts, a.id",
                    (article_id,),
                )
            ]
            if copies:
                db.execute("UPDATE stories SET duplicate_of = NULL WHERE article_id = ?", (copies[0],))
                db.execute(
                    "UPDATE stories SET duplicate_of = ? WHERE duplicate_of = ?", (copies[0], article_id)
                )
            self._changed(db, article_id)
        return ids

    @staticmethod
    def _changed(db: Executor, article_id: str) -> None:
        """Log the article's change and bump the generation, inside the writing transaction."""
        db.execute("INSERT INTO article_changes (article_id) VALUES (?)", (article_id,))
        db.execute(
            "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT (key) DO UPDATE "
            "SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)"
        )

    def generation(self) -> int:
        """Increases on every change, so derived indexes (BM25) know when to rebuild."""
        row = self.db.query_one("SELECT value FROM meta WHERE key = 'generation'")
        return 0 if row is None else int(row["value"])

    def change_seq(self) -> int:
        """The number of the latest article change (0: none logged); a cheap check for derived indexes."""
        row = self.db.query_one("SELECT MAX(seq) FROM article_changes")
        return int(row[0] or 0) if row is not None else 0

    def changed_since(self, seq: int) -> tuple[list[str], int] | None:
        """The articles changed after change ``seq`` and the latest change number; None when that history was
        pruned (the caller rebuilds from all rows). Read the changes before the rows they point at: a row read
        later is at least as new as its change."""
        row = self.db.query_one("SELECT value FROM meta WHERE key = 'changes_pruned_through'")
        if row is not None and seq < int(row[0]):
            return None
        rows = self.db.query("SELECT seq, article_id FROM article_changes WHERE seq > ? ORDER BY seq", (seq,))
        latest = int(rows[-1][0]) if rows else max(seq, self.change_seq())
        return list(dict.fromkeys(str(r[1]) for r in rows)), latest

    def prune_changes(self, through: int) -> None:
        """Forget changes up to ``through`` (a reader still behind them rebuilds in full)."""
        with self._transaction() as db:
            db.execute("DELETE FROM article_changes WHERE seq <= ?", (through,))
            db.execute(
                "INSERT INTO meta VALUES ('changes_pruned_through', ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value WHERE CAST(meta.value AS BIGINT) < CAST(excluded.value AS BIGINT)",
                (str(through),),
            )

    def article(self, article_id: str) -> Article | None:
        row = self.db.query_one("SELECT * FROM articles WHERE id = ?", (article_id,))
        return None if row is None else _article(row)

    def articles(
        self,
        *,
        sources: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        text: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Article], int]:
        """A page of articles, newest first, and the total; ``text`` matches title or body (case-insensitive)."""
        clauses, params = _filters(sources, since, until)
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(LOWER(title) LIKE LOWER(?) ESCAPE '\\' OR LOWER(body) LIKE LOWER(?) ESCAPE '\\')")
            params.extend([pattern, pattern])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        count = self.db.query_one(f"SELECT COUNT(*) FROM articles {where}", params)
        rows = self.db.query(
            f"SELECT * FROM articles {where} ORDER BY published_ts DESC, id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_article(r) for r in rows], int(count[0]) if count is not None else 0

    def article_ids(
        self, *, sources: Sequence[str] = (), since: datetime | None = None, until: datetime | None = None
    ) -> set[str]:
        clauses, params = _filters(sources, since, until)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return {str(r[0]) for r in self.db.query(f"SELECT id FROM articles {where}", params)}

    def articles_by_id(self, ids: Sequence[str]) -> dict[str, Article]:
        return {str(r["id"]): _article(r) for r in self._rows_by_id("articles", ids)}

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, Chunk]:
        return {str(r["id"]): _chunk(r) for r in self._rows_by_id("chunks", ids)}

    def _rows_by_id(self, table: str, ids: Sequence[str]) -> list[Row]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return self.db.query(f"SELECT * FROM {table} WHERE id IN ({marks})", list(ids))

    def chunks_of(self, article_id: str) -> list[Chunk]:
        rows = self.db.query("SELECT * FROM chunks WHERE article_id = ? ORDER BY idx", (article_id,))
        return [_chunk(r) for r in rows]

    def all_chunks(self) -> list[Chunk]:
        return [_chunk(r) for r in self.db.query("SELECT * FROM chunks ORDER BY article_id, idx")]

    def story_signatures(self, exclude: str = "") -> dict[str, bytes]:
        """MinHash signatures of every story's first article (the copies point at these)."""
        rows = self.db.query(
            "SELECT article_id, signature FROM stories WHERE duplicate_of IS NULL AND article_id != ?",
            (exclude,),
        )
        return {str(r[0]): bytes(r[1]) for r in rows}

    def stories(self) -> dict[str, str]:
        """article id → the id of its story (itself, or the article it is a syndicated copy of)."""
        rows = self.db.query("SELECT article_id, duplicate_of FROM stories")
        return {str(r[0]): str(r[1] or r[0]) for r in rows}

    def titles(self) -> dict[str, str]:
        return {str(r[0]): str(r[1]) for r in self.db.query("SELECT id, title FROM articles")}

    def chunk_owners(self) -> dict[str, str]:
        """chunk id → article id for every chunk."""
        return {str(r[0]): str(r[1]) for r in self.db.query("SELECT id, article_id FROM chunks")}

    def all_chunk_ids(self) -> set[str]:
        return {str(r[0]) for r in self.db.query("SELECT id FROM chunks")}

    def sources(self) -> list[str]:
        rows = self.db.query("SELECT DISTINCT source FROM articles WHERE source != '' ORDER BY source")
        return [str(r[0]) for r in rows]

    def source_counts(self) -> list[tuple[str, int]]:
        """(outlet, number of articles) for every named outlet, by name."""
        rows = self.db.query(
            "SELECT source, COUNT(*) FROM articles WHERE source != '' GROUP BY source ORDER BY source"
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def counts(self) -> tuple[int, int]:
        articles = self.db.query_one("SELECT COUNT(*) FROM articles")
        chunks = self.db.query_one("SELECT COUNT(*) FROM chunks")
        assert articles is not None and chunks is not None
        return int(articles[0]), int(chunks[0])

    def close(self) -> None:
        self.db.close()


def _filters(
    sources: Sequence[str], since: datetime | None, until: datetime | None
) -> tuple[list[str], list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if sources:
        clauses.append(f"source IN ({','.join('?' * len(sources))})")
        params.extend(sources)
    if since is not None:
        clauses.append("published_ts >= ?")
        params.append(since.timestamp())
    if until is not None:
        clauses.append("published_ts <= ?")
        params.append(until.timestamp())
    return clauses, params


def _chunk_ids(db: Executor, article_id: str) -> list[str]:
    return [str(r["id"]) for r in db.query("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]


def _article(row: Row) -> Article:
    published = row["published_at"]
    return Article(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        source=row["source"],
        url=row["url"],
        published_at=datetime.fromisoformat(published) if published else None,
        author=row["author"],
        category=row["category"],
        content_hash=row["content_hash"],
    )


def _chunk(row: Row) -> Chunk:
    return Chunk(
        id=row["id"],
        article_id=row["article_id"],
        index=row["idx"],
        text=row["text"],
        start=row["start"],
        end=row["end"],
    )
