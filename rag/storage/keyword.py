"""The keyword half of hybrid retrieval: BM25 over a tantivy index that follows the registry article by article.

The registry logs every article write (``article_changes``). Whoever writes articles calls ``sync`` afterwards: it
takes the index's one writer (a lock file beside the index; tantivy allows one IndexWriter per folder), replaces
the documents of the articles changed since the change the index last applied, and commits them together with that
change number. Every process reads the index: a search first compares the registry's latest change with the one it
last saw (one SQLite lookup) and reloads tantivy's searcher when they differ, so a write in any process is visible
in every other at its next search. An index that stays behind the registry (a writer that died between its
registry write and its commit) is caught up by the next reader that finds the writer free, one article at a time.
A full build happens only when the index is missing or of another format, when the index is opened.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import Stemmer

from rag.storage.keyword_owners import ChunkOwners
from rag.storage.registry import Registry
from rag.storage.tantivy_index import ChunkDoc, Marker, Snapshot, TantivyIndex

_STEMMER = Stemmer.Stemmer("english")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# bm25s's English stopwords (the list the index used before tantivy; MRR@10 was measured with it).
# fmt: off
_STOPWORDS = frozenset([
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
])
# fmt: on
# Names how the index was built; a different value (new tokens, new document text) means a full rebuild.
# tantivy scores BM25 with k1=1.2, b=0.75: the parameters measured best with bm25s (MRR@10 0.679 on the dev split;
# k1 1.5: 0.674, 2.0: 0.670).
INDEX_FORMAT = "tantivy;title+chunk;bm25 k1=1.2 b=0.75;stem=english;stop=bm25s-en"
# A reader finding the index behind the registry for this long catches it up itself (the writer normally commits
# within milliseconds of its registry write; one that died never will).
CATCH_UP_AFTER_S = 1.0
# Registry changes kept after the index applied them, for in-memory indexes of other processes that lag behind.
KEEP_CHANGES = 10_000


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased words of two or more characters, stopwords dropped, Snowball English stems (as bm25s did)."""
    result = []
    for text in texts:
        words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]
        result.append(list(_STEMMER.stemWords(words)) if words else [])
    return result


class KeywordIndex:
    def __init__(
        self, registry: Registry, directory: Path | None, catch_up_after_s: float | None = None
    ) -> None:
        self._registry = registry
        self._catch_up_after_s = CATCH_UP_AFTER_S if catch_up_after_s is None else catch_up_after_s
        self._directory = directory
        # Two locks, so that a search never waits for a write: the writer's (then the lock file, across processes)
        # and the snapshot's (held only to reload). A reader takes the writer's only without waiting.
        self._write_lock = threading.Lock()
        self._read_lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._seen = -1  # the registry change the current snapshot was checked against
        # While behind the registry: (the change the index has applied, since when).
        self._behind: tuple[int, float] | None = None
        self._owners = ChunkOwners(registry)
        if directory is not None:  # the bm25s index of older versions
            shutil.rmtree(directory.with_name("bm25"), ignore_errors=True)
        try:
            self._engine = TantivyIndex(directory)
        except ValueError:  # unreadable, or another schema: started afresh under the writer lock, built below
            with self._writer():
                try:
                    self._engine = TantivyIndex(directory)  # another process may have just done so
                except ValueError:
                    self._engine = TantivyIndex(directory, fresh=True)
        self.sync()

    @contextmanager
    def _writer(self, blocking: bool = True) -> Iterator[bool]:
        """The right to write the index, across threads and processes: yields False if not blocking and taken."""
        if not self._write_lock.acquire(blocking=blocking):
            yield False
            return
        try:
            if self._directory is None:
                yield True
                return
            path = self._directory.with_name(f"{self._directory.name}.lock")
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
                except BlockingIOError:
                    yield False
                    return
                try:
                    yield True
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            self._write_lock.release()

    def sync(self, blocking: bool = True) -> bool:
        """Apply the registry's changes since the index's last one (all of it when the index is missing or of
        another format); False when not blocking and another writer holds the index."""
        with self._writer(blocking) as acquired:
            if not acquired:
                return False
            marker = self._engine.snapshot().marker
            latest = self._registry.change_seq()
            changes = None
            if marker is not None and marker.format == INDEX_FORMAT and marker.seq <= latest:
                changes = self._registry.changed_since(marker.seq)
            if changes is None:
                self._rebuild()
            elif changes[0]:
                self._apply(*changes)
            if latest > KEEP_CHANGES:
                self._registry.prune_changes(latest - KEEP_CHANGES)
            with self._read_lock:
                self._refresh(self._registry.change_seq(), catch_up=False)
        return True

    def _rebuild(self) -> None:
        latest = (
            self._registry.change_seq()
        )  # read before the rows: a later change is applied again next time
        titles = self._registry.titles()
        chunks = self._registry.all_chunks()
        texts = tokenize([f"{titles.get(c.article_id, '')}\n{c.text}" for c in chunks])
        by_article: dict[str, list[ChunkDoc]] = {}
        for chunk, tokens in zip(chunks, texts, strict=True):
            by_article.setdefault(chunk.article_id, []).append(ChunkDoc(chunk.id, tokens))
        with self._engine.writer() as writer:
            writer.clear()
            for article_id, docs in by_article.items():
                writer.add_article(article_id, docs)
            writer.set_marker(Marker(latest, INDEX_FORMAT))

    def _apply(self, article_ids: list[str], latest: int) -> None:
        articles = self._registry.articles_by_id(article_ids)
        with self._engine.writer() as writer:
            for article_id in article_ids:
                article = articles.get(article_id)
                chunks = self._registry.chunks_of(article_id) if article is not None else []
                title = article.title if article is not None else ""
                tokens = tokenize([f"{title}\n{c.text}" for c in chunks])
                writer.replace_article(
                    article_id, [ChunkDoc(c.id, t) for c, t in zip(chunks, tokens, strict=True)]
                )
            writer.set_marker(Marker(latest, INDEX_FORMAT))

    def _current(self) -> Snapshot:
        latest = self._registry.change_seq()
        snapshot = self._snapshot
        if snapshot is not None and latest == self._seen:
            return snapshot
        with self._read_lock:
            if self._snapshot is None or latest != self._seen:
                self._refresh(latest, catch_up=True)
            assert self._snapshot is not None
            return self._snapshot

    def _refresh(self, latest: int, catch_up: bool) -> None:
        snapshot = self._engine.snapshot()
        applied = snapshot.marker.seq if snapshot.marker is not None else -1
        if applied >= latest:
            self._seen, self._behind = latest, None
        else:
            if self._behind is None or self._behind[0] != applied:
                # keep checking: the writer is probably about to commit
                self._behind = (applied, time.monotonic())
            waited = time.monotonic() - self._behind[1]
            if catch_up and waited >= self._catch_up_after_s and self.sync(blocking=False):
                return  # no progress for a while and the writer is free: sync refreshed the snapshot
        self._snapshot = snapshot
        self._owners.advance()

    def owners(self) -> dict[str, str]:
        """chunk id → article id for every registered chunk (advanced with the index, change by change)."""
        self._current()
        return self._owners.map

    def document_frequencies(self, terms: list[str]) -> tuple[dict[str, int], int]:
        """How many indexed chunks hold each (stemmed) term, and how many chunks there are: IDF for the rerank."""
        snapshot = self._current()
        counts = {t: snapshot.document_frequency(t) for t in dict.fromkeys(terms)}
        return {t: n for t, n in counts.items() if n}, snapshot.chunks

    def search(self, query: str, k: int, allowed_articles: set[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) pairs with a positive score, optionally within some articles."""
        return self.search_many(query, k, [allowed_articles])[0]

    def search_many(
        self, query: str, k: int, allowed: list[set[str] | None]
    ) -> list[list[tuple[str, float]]]:
        """One top-k list per allowed-article set (None: all)."""
        snapshot = self._current()
        tokens = tokenize([query])[0]
        return [snapshot.search(tokens, k, articles) for articles in allowed]
