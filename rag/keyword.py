"""bm25s adapter: the keyword half of hybrid retrieval.

The index is derived from the registry's chunk rows and persisted under ``DATA_DIR/bm25`` stamped with the registry
generation it was built from; whenever the registry changes (ingest, update, delete) the next search rebuilds it, so
keyword hits can never name a chunk that the registry no longer holds.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from rag.registry import Registry

_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER.stemWords, return_ids=False, show_progress=False)
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
        model = bm25s.BM25()
        model.index(tokenize([c.text for c in chunks]), show_progress=False)
        self._model = model
        if self._directory is not None:
            tmp = self._directory.with_name(self._directory.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            model.save(str(tmp), show_progress=False)
            (tmp / "newsdesk.json").write_text(
                json.dumps({"generation": generation, "chunk_ids": self._chunk_ids, "article_ids": self._article_ids})
            )
            shutil.rmtree(self._directory, ignore_errors=True)
            tmp.rename(self._directory)

    def _load(self, generation: int) -> bool:
        if self._directory is None or not (self._directory / "newsdesk.json").exists():
            return False
        stamp = json.loads((self._directory / "newsdesk.json").read_text())
        if stamp.get("generation") != generation:
            return False
        self._model = bm25s.BM25.load(str(self._directory), show_progress=False)
        self._chunk_ids = list(stamp["chunk_ids"])
        self._article_ids = list(stamp["article_ids"])
        return True

    def search(self, query: str, k: int, allowed_articles: set[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) pairs with a positive score, optionally within some articles."""
        model, chunk_ids, article_ids = self._current()
        if model is None:
            return []
        query_tokens = tokenize([query])[0]
        if not query_tokens:
            return []
        scores = np.asarray(model.get_scores(query_tokens), dtype=np.float32)
        if allowed_articles is not None:
            mask = np.fromiter((a in allowed_articles for a in article_ids), dtype=bool, count=len(article_ids))
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]
