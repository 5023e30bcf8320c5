"""tantivy adapter: the one module that imports tantivy (the Rust search engine behind Quickwit).

One document per chunk: its stored chunk id and article id (raw terms, so an article's documents are deleted by one
term) and its text already tokenised by ``rag.storage.keyword.tokenize`` (tantivy's whitespace tokenizer only splits
it), so the index, the questions and the coverage check all see exactly the same stemmed tokens. One more document, the
marker, records which registry change the index has applied and the format it was built with; it is committed in
the same commit as the postings, so a reader that sees one sees the other.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tantivy

_TEXT, _CHUNK, _ARTICLE, _KIND, _SEQ, _FORMAT = "text", "chunk_id", "article_id", "kind", "seq", "format"
_MARKER = "sync-marker"
# tantivy's writer splits its heap among threads (15 MB each at least); one thread is plenty for a batch of
# articles and leaves the cores to the API.
_WRITER_HEAP = 32_000_000
_WRITER_THREADS = 1


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # Frequencies, not positions: BM25 needs term frequencies and field lengths only.
    builder.add_text_field(_TEXT, stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field(_CHUNK, stored=True, tokenizer_name="raw")
    builder.add_text_field(_ARTICLE, stored=True, tokenizer_name="raw")
    builder.add_text_field(_KIND, stored=False, tokenizer_name="raw")
    builder.add_integer_field(_SEQ, stored=True, indexed=False)
    builder.add_text_field(_FORMAT, stored=True, tokenizer_name="raw")
    return builder.build()


@dataclass(frozen=True)
class Marker:
    seq: int  # the last registry change applied
    format: str


@dataclass(frozen=True)
class ChunkDoc:
    chunk_id: str
    tokens: Sequence[str]


class Snapshot:
    """One committed state of the index, searched without locks (a tantivy searcher never changes)."""

    def __init__(self, schema: tantivy.Schema, searcher: tantivy.Searcher) -> None:
        self._schema = schema
        self._searcher = searcher
        hits = searcher.search(tantivy.Query.term_query(schema, _KIND, _MARKER), 1).hits
        self.marker: Marker | None = None
        if hits:
            doc = searcher.doc(hits[0][1])
            self.marker = Marker(int(doc[_SEQ][0]), str(doc[_FORMAT][0]))
        self.chunks = searcher.num_docs - len(hits)

    def search(
        self, tokens: Sequence[str], k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score): every token scores (a repeated token counts again, as it did in bm25s);
        ``allowed`` keeps only those articles' chunks without changing any score."""
        if not tokens or k <= 0 or (allowed is not None and not allowed):
            return []
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, _TEXT, t)) for t in tokens]
        )
        if allowed is not None:
            only = tantivy.Query.term_set_query(self._schema, _ARTICLE, sorted(allowed))
            # A filter, not a scorer: boosted to 0 so the BM25 scores stay those of the text alone.
            query = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, query),
                    (tantivy.Occur.Must, tantivy.Query.boost_query(only, 0.0)),
                ]
            )
        hits = self._searcher.search(query, k, count=False).hits
        return [(str(self._searcher.doc(address)[_CHUNK][0]), float(score)) for score, address in hits]

    def document_frequency(self, token: str) -> int:
        """Live chunks holding the token. Counted by a query rather than read from the term dictionary, which
        still counts deleted documents until their segment is merged."""
        query = tantivy.Query.term_query(self._schema, _TEXT, token)
        count = self._searcher.search(query, 1, count=True).count  # type: ignore[attr-defined]  # not in the stub
        return int(count or 0)


class TantivyIndex:
    """The index in ``directory`` (shared by the processes of one data dir), or in memory when it is None."""

    def __init__(self, directory: Path | None, fresh: bool = False) -> None:
        """Open (or create) the index; ``fresh`` first removes what the folder holds (another schema, or an
        unreadable index: ValueError on open). Only the holder of the writer lock may pass ``fresh``."""
        self._schema = _schema()
        if directory is None:
            self._index = tantivy.Index(self._schema)
        else:
            if fresh:
                shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self._schema, path=str(directory), reuse=True)
        # Reloaded by the caller when the registry says something changed, not by a file-watching thread.
        self._index.config_reader(reload_policy="manual")

    def snapshot(self) -> Snapshot:
        for attempt in range(3):
            try:
                self._index.reload()
                return Snapshot(self._schema, self._index.searcher())
            except ValueError:
                # Another process's writer may have just removed a segment file that this reload was opening
                # (tantivy collects unused files after a commit): the next try reads the newer meta.json.
                if attempt == 2:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """tantivy's IndexWriter for one batch: committed (postings and marker together) when the block ends,
        rolled back if it raises, and always closed, which frees tantivy's directory lock for the next writer."""
        raw = self._index.writer(heap_size=_WRITER_HEAP, num_threads=_WRITER_THREADS)
        try:
            writer = Writer(self._schema, raw)
            yield writer
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.wait_merging_threads()  # merges finish here, in the writing process, then the lock is freed


class Writer:
    def __init__(self, schema: tantivy.Schema, raw: tantivy.IndexWriter) -> None:
        self._schema = schema
        self._raw = raw

    def clear(self) -> None:
        self._raw.delete_all_documents()

    def replace_article(self, article_id: str, chunks: Iterable[ChunkDoc]) -> None:
        """The article's documents become exactly ``chunks`` (none: the article is gone)."""
        self._raw.delete_documents_by_term(_ARTICLE, article_id)
        self.add_article(article_id, chunks)

    def add_article(self, article_id: str, chunks: Iterable[ChunkDoc]) -> None:
        for chunk in chunks:
            self._raw.add_document(
                tantivy.Document(
                    **{_TEXT: " ".join(chunk.tokens), _CHUNK: chunk.chunk_id, _ARTICLE: article_id}
                )
            )

    def set_marker(self, marker: Marker) -> None:
        self._raw.delete_documents_by_term(_KIND, _MARKER)
        self._raw.add_document(tantivy.Document(**{_KIND: _MARKER, _SEQ: marker.seq, _FORMAT: marker.format}))
