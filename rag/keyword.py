"""bm25s adapter: the keyword half of hybrid retrieval.

The index is derived from the registry's chunk rows and persisted under ``DATA_DIR/bm25`` stamped with the registry
generation it was built from; whenever the registry changes (ingest, update, delete) the next search rebuilds it, so
keyword hits can never name a chunk that the registry no longer holds.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from rag.registry import Registry

_STEMMER = Stemmer.Stemmer("english")
# Names how the persisted index was built; a different value (new parameters, new document text) forces a rebuild.
INDEX_FORMAT = "title+chunk;k1=1.2;b=0.75;stem=english"


def tokenize(texts: list[str]) -> list[list[str]]:
    tokens = bm25s.tokenize(
        texts, stopwords="en", stemmer=_STEMMER.stemWords, return_ids=False, show_progress=False
    )
    return [list(t) for t in tokens]


class KeywordIndex:
    def __init__(self, registry: Registry, directory: Path | None) -> None:
        self._registry = registry
        self._directory = directory
        self._lock = threading.Lock()
        self._generation = -1
        self._model: bm25s.BM25 | None = None
        self._chunk_ids: list[str] = []
        self._article_ids: list[str] = []
        self._owners: tuple[list[str] | None, dict[str, str]] = (None, {})
        self._article_positions: tuple[list[str] | None, dict[str, np.ndarray]] = (None, {})

    def _current(self) -> tuple[bm25s.BM25 | None, list[str], list[str]]:
        generation = self._registry.generation()
        with self._lock:
            if generation != self._generation:
                if not self._load(generation):
                    self._build(generation)
                self._generation = generation
            return self._model, self._chunk_ids, self._article_ids

    def _build(self, generation: int) -> None:
        chunks = self._registry.all_chunks()
        self._chunk_ids = [c.id for c in chunks]
        self._article_ids = [c.article_id for c in chunks]
        if not chunks:
            self._model = None
            return
        # k1=1.2 measured best on the MultiHop-RAG dev split (MRR@10 0.679; 1.5: 0.674, 2.0: 0.670, 0.9/b=0.4: 0.675).
        model = bm25s.BM25(k1=1.2, b=0.75)
        # The title is indexed with every chunk of its article: it names the story the chunk belongs to.
        titles = self._registry.titles()
        model.index(
            tokenize([f"{titles.get(c.article_id, '')}\n{c.text}" for c in chunks]), show_progress=False
        )
        self._model = model
        if self._directory is not None:
            self._save(model, generation)

    def _save(self, model: bm25s.BM25, generation: int) -> None:
        """Persist the index for the next start. Several processes may share the data dir (API workers beside a
        Chroma server), so each writes its own temporary folder and a lost race to publish it is harmless: the
        persisted index is only a cache, stamped with the registry generation it was built from."""
        assert self._directory is not None
        tmp = self._directory.with_name(f"{self._directory.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            model.save(str(tmp), show_progress=False)
            (tmp / "newsdesk.json").write_text(
                json.dumps(
                    {
                        "generation": generation,
                        "format": INDEX_FORMAT,
                        "chunk_ids": self._chunk_ids,
                        "article_ids": self._article_ids,
                    }
                )
            )
            shutil.rmtree(self._directory, ignore_errors=True)
            tmp.rename(self._directory)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process published first; ours stays in memory

    def _load(self, generation: int) -> bool:
        if self._directory is None:
            return False
        stamp_path = self._directory / "newsdesk.json"
        try:
            stamp = json.loads(stamp_path.read_text())
            if stamp.get("generation") != generation or stamp.get("format") != INDEX_FORMAT:
                return False
            model = bm25s.BM25.load(str(self._directory), show_progress=False)
            # Another process may replace the folder while this one reads it: the stamp must be unchanged after
            # the load, and the model must index exactly the stamped chunks.
            if json.loads(stamp_path.read_text()) != stamp or _doc_count(model) != len(stamp["chunk_ids"]):
                return False
        except (OSError, ValueError, KeyError):
            return False  # missing, half-replaced or unreadable: rebuild from the registry
        self._model = model
        self._chunk_ids = list(stamp["chunk_ids"])
        self._article_ids = list(stamp["article_ids"])
        return True

    def owners(self) -> dict[str, str]:
        """chunk id → article id for every indexed chunk (kept in step with the registry like the index)."""
        _, chunk_ids, article_ids = self._current()
        if self._owners[0] is not chunk_ids:
            self._owners = (chunk_ids, dict(zip(chunk_ids, article_ids, strict=True)))
        return self._owners[1]

    def _positions(self, article_ids: list[str]) -> dict[str, np.ndarray]:
        """article id → positions of its chunks in the index (rebuilt with the index, like ``owners``)."""
        if self._article_positions[0] is not article_ids:
            grouped: dict[str, list[int]] = {}
            for position, article_id in enumerate(article_ids):
                grouped.setdefault(article_id, []).append(position)
            arrays = {a: np.asarray(p, dtype=np.int64) for a, p in grouped.items()}
            self._article_positions = (article_ids, arrays)
        return self._article_positions[1]

    def document_frequencies(self, terms: list[str]) -> tuple[dict[str, int], int]:
        """How many indexed chunks hold each (stemmed) term, and how many chunks there are: IDF for the rerank."""
        model, chunk_ids, _ = self._current()
        if model is None:
            return {}, 0
        vocab: dict[str, int] = model.vocab_dict
        indptr = model.scores["indptr"]  # term-major index: a term's postings are indptr[id]:indptr[id + 1]
        counts = {t: int(indptr[vocab[t] + 1] - indptr[vocab[t]]) for t in terms if t in vocab}
        return counts, len(chunk_ids)

    def search(self, query: str, k: int, allowed_articles: set[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) pairs with a positive score, optionally within some articles."""
        return self.search_many(query, k, [allowed_articles])[0]

    def search_many(
        self, query: str, k: int, allowed: list[set[str] | None]
    ) -> list[list[tuple[str, float]]]:
        """One top-k list per allowed-article set (None: all), scoring the query only once."""
        model, chunk_ids, article_ids = self._current()
        query_tokens = tokenize([query])[0] if model is not None else []
        if model is None or not query_tokens:
            return [[] for _ in allowed]
        scores = np.asarray(model.get_scores(query_tokens), dtype=np.float32)
        positions = self._positions(article_ids)
        results = []
        for articles in allowed:
            masked = scores
            if articles is not None:
                # Index the article's chunk positions rather than np.isin over every chunk's owner: the latter
                # cost ~6 ms a question (per-outlet and per-day sub-searches each mask the whole index).
                masked = np.zeros_like(scores)
                keep = [positions[a] for a in articles if a in positions]
                if keep:
                    rows = np.concatenate(keep)
                    masked[rows] = scores[rows]
            top_k = min(k, len(masked))
            top = np.argpartition(-masked, top_k - 1)[:top_k]
            top = top[np.argsort(-masked[top])]
            results.append([(chunk_ids[i], float(masked[i])) for i in top if masked[i] > 0])
        return results


def _doc_count(model: bm25s.BM25) -> int:
    return int(model.scores["num_docs"])
