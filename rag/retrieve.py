"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused by reciprocal rank, with metadata filters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from rag.embedders import Embedder
from rag.keyword import KeywordIndex
from rag.query import QueryAnalysis, analyze
from rag.registry import Registry
from rag.store import VectorStore, Where
from rag.types import Filters, Passage

RRF_K = 60


@dataclass(frozen=True)
class RetrievalConfig:
    mode: str = "hybrid"  # hybrid | dense | keyword
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    candidates: int = 50
    understand: bool = True  # outlets and dates named in the question
    focus_weight: float = 1.0  # weight of each per-outlet / per-day sub-ranking in the final fusion
    max_per_article: int = 0  # 0: no cap on chunks of one article in the results


class Retriever:
    def __init__(
        self,
        registry: Registry,
        store: VectorStore,
        embedder: Embedder,
        keyword: KeywordIndex,
        config: RetrievalConfig | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.embedder = embedder
        self.keyword = keyword
        self.config = config or RetrievalConfig()
        self._sources: tuple[int, list[str]] = (-1, [])

    def known_sources(self) -> list[str]:
        generation = self.registry.generation()
        if self._sources[0] != generation:
            self._sources = (generation, self.registry.sources())
        return self._sources[1]

    def search(
        self, query: str, k: int, filters: Filters | None = None, as_of: datetime | None = None
    ) -> list[Passage]:
        filters = filters or Filters()
        analysis = analyze(query, self.known_sources(), as_of) if self.config.understand else QueryAnalysis()
        if analysis.range is not None and filters.since is None and filters.until is None:
            filters = filters.model_copy(update={"since": analysis.range.since, "until": analysis.range.until})
        vector = self.embedder.embed([query])[0] if self.config.mode != "keyword" else None
        depth = max(k, self.config.candidates)
        rankings = [(1.0, self._ranking(query, vector, filters, depth))]
        # A question naming outlets or dates usually needs evidence from each: search each one on its own too.
        focused: list[Filters] = []
        if not filters.sources:
            focused += [filters.model_copy(update={"sources": [s]}) for s in analysis.sources]
        for day in analysis.days:
            focused.append(filters.model_copy(update={"since": day.since, "until": day.until}))
        for sub in focused:
            rankings.append((self.config.focus_weight, self._ranking(query, vector, sub, depth)))
        fused: dict[str, float] = {}
        for weight, ranking in rankings:
            for rank, chunk_id in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
        ranked = sorted(fused.items(), key=lambda item: -item[1])
        return self._passages(ranked, k)

    def _ranking(self, query: str, vector: np.ndarray | None, filters: Filters, depth: int) -> list[str]:
        """One hybrid ranking of chunk ids under the filters (dense and BM25 fused by reciprocal rank)."""
        allowed = None if filters.empty else self.registry.article_ids(
            sources=filters.sources, since=filters.since, until=filters.until
        )
        if allowed is not None and not allowed:
            return []
        fused: dict[str, float] = {}
        if vector is not None and self.config.mode in ("hybrid", "dense"):
            for rank, hit in enumerate(self.store.query(vector, depth, _where(filters))):
                fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + self.config.dense_weight / (RRF_K + rank + 1)
        if self.config.mode in ("hybrid", "keyword"):
            for rank, (chunk_id, _) in enumerate(self.keyword.search(query, depth, allowed)):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + self.config.keyword_weight / (RRF_K + rank + 1)
        return [chunk_id for chunk_id, _ in sorted(fused.items(), key=lambda item: -item[1])]

    def _passages(self, ranked: list[tuple[str, float]], k: int) -> list[Passage]:
        # Resolve through the registry: a chunk id it does not hold (orphan, replaced version) is skipped.
        chunks = self.registry.chunks_by_id([chunk_id for chunk_id, _ in ranked[: k * 4 + 20]])
        articles = self.registry.articles_by_id(sorted({c.article_id for c in chunks.values()}))
        passages: list[Passage] = []
        per_article: Counter[str] = Counter()
        for chunk_id, score in ranked:
            chunk = chunks.get(chunk_id)
            article = articles.get(chunk.article_id) if chunk else None
            if chunk is None or article is None:
                continue
            if self.config.max_per_article and per_article[article.id] >= self.config.max_per_article:
                continue
            per_article[article.id] += 1
            passages.append(
                Passage(
                    chunk=chunk, title=article.title, source=article.source, url=article.url,
                    published_at=article.published_at, score=score,
                )
            )
            if len(passages) == k:
                break
        return passages


def _where(filters: Filters) -> Where | None:
    clauses: list[Where] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    if filters.since is not None:
        clauses.append({"published_ts": {"$gte": filters.since.timestamp()}})
    if filters.until is not None:
        clauses.append({"published_ts": {"$lte": filters.until.timestamp()}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
