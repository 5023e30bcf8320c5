"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused by reciprocal rank, with metadata filters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from rag.retrieval.embedders import Embedder
from rag.retrieval.query import QueryAnalysis, analyze
from rag.retrieval.rerank import RerankConfig, idf_weights, question_terms, rerank
from rag.storage.keyword import KeywordIndex
from rag.storage.registry import Registry
from rag.storage.store import VectorHit, VectorStore, Where
from rag.types import Chunk, Filters, Passage

# Dense hits fetched once per question and shared by its sub-searches (same quality on the dev split as one
# filtered query per sub-search: hits@10 0.960, MRR@10 0.680 vs 0.679; about 15% faster).
DENSE_POOL = 200
MIN_POOLED_HITS = 10
# The pool grows with the index (1% of its chunks, at most 1,000) so that narrow outlet/date sub-searches keep
# finding their articles in it: a sub-search the pool misses costs a filtered Chroma query, ~20-60 ms at 100k chunks,
# while an unfiltered 1,000-hit query costs ~8 ms there. At 100k (synthetic scale-up, 200 dev questions): p95
# 222 ms with a 200-hit pool, 97 ms with 1,000. Below 20k chunks the pool stays at 200 (the dev corpus: 6,979).
DENSE_POOL_SHARE = 0.01
DENSE_POOL_MAX = 1000


@dataclass(frozen=True)
class RetrievalConfig:
    mode: str = "hybrid"  # hybrid | dense | keyword
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    candidates: int = 50
    understand: bool = True  # outlets and dates named in the question
    focus_weight: float = 1.0  # weight of each per-outlet / per-day sub-ranking in the final fusion
    max_per_article: int = 0  # 0: no cap on chunks of one article in the results
    rrf_k: int = 10  # reciprocal-rank constant: smaller trusts the top of each ranking more
    rerank: RerankConfig = field(default_factory=RerankConfig)  # sentence-level second stage (rag/retrieval/rerank.py)


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
        self._stories: tuple[int, dict[str, str], dict[str, list[str]]] = (-1, {}, {})

    def story_members(self) -> tuple[dict[str, str], dict[str, list[str]]]:
        """article → story id, and story id → its member articles (syndicated copies grouped at ingest)."""
        generation = self.registry.generation()
        if self._stories[0] != generation:
            story_of = self.registry.stories()
            members: dict[str, list[str]] = {}
            for article_id, story in sorted(story_of.items()):
                members.setdefault(story, []).append(article_id)
            self._stories = (generation, story_of, members)
        return self._stories[1], self._stories[2]

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
        if analysis.topic:
            query = analysis.topic
        vector = self.embedder.embed([query])[0] if self.config.mode != "keyword" else None
        depth = max(k, self.config.candidates)
        # A question naming outlets or dates usually needs evidence from each: search each one on its own too.
        searches = [filters]
        if not filters.sources:
            searches += [filters.model_copy(update={"sources": [s]}) for s in analysis.sources]
        # Dates in the question are soft: "a surge during December 2022" may describe events, not publication.
        # Explicit since/until filters from the caller are hard and take precedence.
        windows = analysis.days + ([analysis.range] if analysis.range is not None else [])
        if filters.since is None and filters.until is None:
            searches += [filters.model_copy(update={"since": w.since, "until": w.until}) for w in windows]
        ranked_lists = self._rankings(query, vector, searches, depth)
        weights = [1.0] + [self.config.focus_weight] * (len(ranked_lists) - 1)
        ranked = fuse(list(zip(weights, ranked_lists, strict=True)), self.config.rrf_k)
        chunks = self.registry.chunks_by_id(
            [chunk_id for chunk_id, _ in ranked[: max(k * 4 + 20, self.config.rerank.depth)]]
        )
        if self.config.rerank.depth > 0:
            ranked = self._rerank(query, ranked, chunks)
        return self._passages(ranked, chunks, k)

    def _rerank(
        self, query: str, ranked: list[tuple[str, float]], chunks: dict[str, Chunk]
    ) -> list[tuple[str, float]]:
        terms = question_terms(query)
        frequencies, documents = self.keyword.document_frequencies(terms)
        weights = idf_weights(terms, lambda term: frequencies.get(term, 0), documents)
        texts = {chunk_id: chunk.text for chunk_id, chunk in chunks.items()}
        return rerank(ranked, texts, terms, weights, self.config.rerank)

    def _pool_size(self) -> int:
        indexed = len(self.keyword.owners())
        return min(DENSE_POOL_MAX, max(DENSE_POOL, int(indexed * DENSE_POOL_SHARE)))

    def _rankings(
        self, query: str, vector: np.ndarray | None, searches: list[Filters], depth: int
    ) -> list[list[str]]:
        """One hybrid ranking of chunk ids per filter set (dense and BM25 fused by reciprocal rank)."""
        allowed = [
            None if f.empty else self.registry.article_ids(sources=f.sources, since=f.since, until=f.until)
            for f in searches
        ]
        use_keyword = self.config.mode in ("hybrid", "keyword")
        keyword_lists = (
            self.keyword.search_many(query, depth, allowed) if use_keyword else [[] for _ in searches]
        )
        # One dense query serves every sub-search: the sub-searches only narrow the caller's filters, so their
        # hits are the pool's hits within their articles. A narrow sub-search the pool barely covers gets its own
        # filtered query (Chroma's filtered search costs several times an unfiltered one).
        use_dense = vector is not None and self.config.mode in ("hybrid", "dense")
        pool: list[VectorHit] = []
        if use_dense and vector is not None:
            pool = self.store.query(vector, max(depth, self._pool_size()), _where(searches[0]))
        rankings: list[list[str]] = []
        for filters, articles, keyword_hits in zip(searches, allowed, keyword_lists, strict=True):
            if articles is not None and not articles:
                rankings.append([])
                continue
            dense: list[str] = []
            if use_dense and vector is not None:
                owners = self.keyword.owners()
                hits = pool if articles is None else [h for h in pool if owners.get(h.chunk_id) in articles]
                if len(hits) < MIN_POOLED_HITS and len(hits) < len(pool):
                    hits = self.store.query(vector, depth, _where(filters))
                dense = [hit.chunk_id for hit in hits[:depth]]
            keyword = [chunk_id for chunk_id, _ in keyword_hits]
            fused = fuse(
                [(self.config.dense_weight, dense), (self.config.keyword_weight, keyword)], self.config.rrf_k
            )
            rankings.append([chunk_id for chunk_id, _ in fused])
        return rankings

    def _passages(self, ranked: list[tuple[str, float]], chunks: dict[str, Chunk], k: int) -> list[Passage]:
        # ``chunks`` was resolved through the registry: a chunk id it does not hold (orphan, replaced version) is
        # skipped.
        articles = self.registry.articles_by_id(sorted({c.article_id for c in chunks.values()}))
        passages: list[Passage] = []
        per_article: Counter[str] = Counter()
        story_of, members = self.story_members()
        shown: dict[str, str] = {}  # story → the one article whose chunks represent it
        for chunk_id, score in ranked:
            chunk = chunks.get(chunk_id)
            article = articles.get(chunk.article_id) if chunk else None
            if chunk is None or article is None:
                continue
            if self.config.max_per_article and per_article[article.id] >= self.config.max_per_article:
                continue
            story = story_of.get(article.id, article.id)
            if shown.setdefault(story, article.id) != article.id:
                continue  # a syndicated copy of a story already in the results counts once
            per_article[article.id] += 1
            passages.append(
                Passage(
                    chunk=chunk,
                    title=article.title,
                    source=article.source,
                    url=article.url,
                    published_at=article.published_at,
                    score=score,
                    copies=[m for m in members.get(story, []) if m != article.id],
                )
            )
            if len(passages) == k:
                break
        return passages


def fuse(rankings: list[tuple[float, list[str]]], rrf_k: int) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion: each id scores sum(weight / (rrf_k + rank)), best first."""
    scores: dict[str, float] = {}
    for weight, ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


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
