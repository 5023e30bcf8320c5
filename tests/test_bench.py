"""`newsdesk bench` helpers (the benchmark itself is not run by the tests: `make bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from evals.bench import build_scaled, evenly, latency_summary
from rag.pipeline import Services
from rag.store import VectorStore


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
