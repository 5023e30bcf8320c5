"""`newsdesk eval retrieval`: ingest a corpus into a store, run the queries, score with the official hit rule."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from evals.multihop import is_hit, load_corpus, load_queries
from ingest.pipeline import Ingestor
from rag.pipeline import build_services
from rag.settings import Settings


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def score_ranking(hits: list[bool], urls: list[str], gold_urls: list[str]) -> dict[str, float]:
    first = next((rank for rank, hit in enumerate(hits[:10], start=1) if hit), None)
    precisions = [sum(hits[:rank]) / rank for rank, hit in enumerate(hits[:10], start=1) if hit]
    found = set(urls[:10]) & set(gold_urls)
    return {
        "hits@1": float(any(hits[:1])),
        "hits@4": float(any(hits[:4])),
        "hits@10": float(any(hits[:10])),
        "mrr@10": 1.0 / first if first else 0.0,
        "map@10": sum(precisions) / len(precisions) if precisions else 0.0,
        "article_recall@10": len(found) / len(gold_urls) if gold_urls else 0.0,
        "all_articles@10": float(bool(gold_urls) and found == set(gold_urls)),
    }


def run_retrieval_eval(
    corpus_path: Path,
    queries_path: Path,
    out: Path,
    *,
    mode: str = "hybrid",
    limit: int | None = None,
    data_dir: Path | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    queries = load_queries(queries_path)[:limit] if limit else load_queries(queries_path)
    corpus = load_corpus(corpus_path)
    with tempfile.TemporaryDirectory(prefix="newsdesk-eval-") as tmp:
        settings = Settings(data_dir=data_dir or Path(tmp), retrieval_mode=mode)
        services = build_services(settings)
        started = time.perf_counter()
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("ingesting corpus", total=len(corpus))
            report = Ingestor(services).ingest(corpus, progress=lambda n: progress.advance(task, n))
        ingest_s = time.perf_counter() - started
        # Relative dates in the questions are read as of the newest article, as a user at that time would mean them.
        as_of = max(
            (a.published_at for a in services.registry.articles(limit=1)[0] if a.published_at), default=None
        )
        per_type: dict[str, list[dict[str, float]]] = defaultdict(list)
        latencies: list[float] = []
        with (
            (out / "results.jsonl").open("w", encoding="utf-8") as results,
            Progress(console=console, transient=True) as progress,
        ):
            task = progress.add_task("querying", total=len(queries))
            for query in queries:
                t0 = time.perf_counter()
                passages = services.retriever.search(query.text, 10, as_of=as_of)
                latencies.append((time.perf_counter() - t0) * 1000)
                hits = [is_hit(p.chunk.text, query.facts) for p in passages]
                scores = score_ranking(hits, [p.url for p in passages], query.evidence_urls)
                per_type[query.question_type].append(scores)
                results.write(
                    json.dumps(
                        {
                            "qid": query.qid,
                            "type": query.question_type,
                            "query": query.text,
                            **scores,
                            "retrieved": [
                                {"chunk_id": p.chunk.id, "url": p.url, "hit": h}
                                for p, h in zip(passages, hits, strict=True)
                            ],
                            "latency_ms": round(latencies[-1], 2),
                        }
                    )
                    + "\n"
                )
                progress.advance(task)
        chunks = services.registry.counts()[1]
        services.close()
    every = [s for scores in per_type.values() for s in scores]
    metrics = list(every[0]) if every else []
    summary: dict[str, Any] = {
        "suite": "retrieval",
        "mode": mode,
        "n": len(every),
        **{m: round(statistics.fmean(s[m] for s in every), 4) for m in metrics},
        "per_type": {
            t: {"n": len(v), **{m: round(statistics.fmean(s[m] for s in v), 4) for m in metrics}}
            for t, v in sorted(per_type.items())
        },
        "latency_ms": {
            "p50": round(_percentile(latencies, 0.5), 2),
            "p95": round(_percentile(latencies, 0.95), 2),
        },
        "corpus": {
            "articles": len(corpus),
            "chunks": chunks,
            "ingest_s": round(ingest_s, 1),
            "rejected": len(report.rejected),
        },
        "settings": {
            "chunk_tokens": settings.chunk_tokens,
            "overlap": settings.chunk_overlap_tokens,
            "embedder": services.embedder.name,
            "dense_weight": settings.dense_weight,
            "keyword_weight": settings.keyword_weight,
            "candidates": settings.retrieve_candidates,
            "query_understanding": settings.query_understanding,
            "focus_weight": settings.focus_weight,
            "max_chunks_per_article": settings.max_chunks_per_article,
            "rrf_k": settings.rrf_k,
            "rerank_depth": settings.rerank_depth,
            "rerank_weight": settings.rerank_weight,
        },
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
