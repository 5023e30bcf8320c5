"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused by reciprocal rank, with metadata filters."""

from __future__ import annotations

from dataclasses import dataclass

from rag.embedders import Embedder
from rag.keyword import KeywordIndex
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

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Passage]:
        filters = filters or Filters()
        allowed = None if filters.empty else self.registry.article_ids(
            sources=filters.sources, since=filters.since, until=filters.until
        )
        if allowed is not None and not allowed:
            return []
        depth = max(k, self.config.candidates)
        fused: dict[str, float] = {}
        if self.config.mode in ("hybrid", "dense"):
            vector = self.embedder.embed([query])[0]
            hits = self.store.query(vector, depth, _where(filters))
            for rank, hit in enumerate(hits):
                fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + self.config.dense_weight / (RRF_K + rank + 1)
        if self.config.mode in ("hybrid", "keyword"):
            for rank, (chunk_id, _) in enumerate(self.keyword.search(query, depth, allowed)):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + self.config.keyword_weight / (RRF_K + rank + 1)
        ranked = sorted(fused.items(), key=lambda item: -item[1])
        return self._passages(ranked, k)

    def _passages(self, ranked: list[tuple[str, float]], k: int) -> list[Passage]:
        # Resolve through the registry: a chunk id it does not hold (orphan, replaced version) is skipped.
        chunks = self.registry.chunks_by_id([chunk_id for chunk_id, _ in ranked[: k * 2 + 10]])
        articles = self.registry.articles_by_id(sorted({c.article_id for c in chunks.values()}))
        passages: list[Passage] = []
        for chunk_id, score in ranked:
            chunk = chunks.get(chunk_id)
            article = articles.get(chunk.article_id) if chunk else None
            if chunk is None or article is None:
                continue
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
