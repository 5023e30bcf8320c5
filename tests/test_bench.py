"""`newsdesk bench` helpers (the benchmark itself is not run by the tests: `make bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from evals.bench import build_scaled, evenly, latency_summary
from rag.pipeline import Services
from rag.storage.store import VectorStore


def test_latency_summary_and_even_sampling() -> None:
    summary = latency_summary([float(v) for v in range(1, 101)])
    assert summary == {"n": 100, "p50": 51.0, "p95": 95.0, "mean": 50.5}
    assert latency_summary([]) == {"n": 0}
    assert evenly(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert evenly(list(range(3)), 0) == [0, 1, 2]
    assert evenly(list(range(3)), 5) == [0, 1, 2]


def test_scaled_store_is_consistent_and_searchable(
    loaded: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tiny upsert limit: no upsert may carry more than Chroma's max batch size.
    sizes: list[int] = []
    upsert = VectorStore.upsert

    def counting_upsert(self: VectorStore, ids: Any, *args: Any) -> None:
        sizes.append(len(ids))
        upsert(self, ids, *args)

    monkeypatch.setattr(VectorStore, "max_batch_size", lambda self: 7)
    monkeypatch.setattr(VectorStore, "upsert", counting_upsert)
    real_chunks = loaded.registry.counts()[1]
    target = real_chunks * 3 + 5
    scaled, how = build_scaled(loaded, target, tmp_path / "scaled", seed=0, console=Console(quiet=True))
    try:
        articles, chunks = scaled.registry.counts()
        assert target <= chunks < target + 40  # whole articles are copied, so it may overshoot a little
        assert articles == 16 + how["synthetic_articles"]
        assert scaled.store.all_ids() == scaled.registry.all_chunk_ids()
        assert how["chroma_count"] == chunks and how["rounds"] == 3  # two full copies, then part of a third
        assert 0.8 < how["copy_cosine_mean"] < 0.95
        copy = scaled.registry.article("fict-008-x1")
        original = loaded.registry.article("fict-008")
        assert copy is not None and original is not None and copy.body == original.body
        passages = scaled.retriever.search("Who scored the winning goal in the Coastal Cup final?", 10)
        assert passages and {p.chunk.article_id.split("-x")[0] for p in passages} >= {"fict-008"}
        assert loaded.registry.counts()[1] == real_chunks  # the real store is untouched
        assert sizes and max(sizes) <= 7
    finally:
        scaled.close()


@pytest.mark.integration
def test_a_small_bench_run_reports_every_phase(tmp_path: Path, sample_articles: list[dict[str, Any]]) -> None:
    import json

    from evals.bench import BenchOptions, print_table, run_bench

    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(sample_articles), encoding="utf-8")
    queries = tmp_path / "queries.json"
    queries.write_text(
        json.dumps(
            [
                {
                    "query": "How high did the Tamsin River crest?",
                    "answer": "",
                    "question_type": "inference_query",
                },
                {"query": "Who won the Coastal Cup final?", "answer": "", "question_type": "inference_query"},
            ]
        ),
        encoding="utf-8",
    )
    options = BenchOptions(
        corpus=corpus,
        queries=queries,
        out=tmp_path / "out",
        ask_queries=2,
        embed_sample=8,
        scale=120,
        baseline=False,
    )
    result = run_bench(options, Console(quiet=True))
    assert result["ingest"]["articles"] == 16 and result["ingest"]["chunks_per_s"] > 0
    assert result["retrieval"]["scaled"]["chunks"] >= 120
    assert set(result["ask"]) == {"in_process", "scaled", "http"}
    assert result["ask"]["scaled"]["codes"] == {"200": 2}
    assert result["ask"]["http"]["codes"] == {"200": 2}
    assert json.loads((tmp_path / "out" / "bench.json").read_text())["ingest"] == result["ingest"]
    print_table(result, Console(quiet=True))
