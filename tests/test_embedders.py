"""MiniLMEmbedder batching: bounded by count and by padded tokens, and never changing an embedding."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedders import MiniLMEmbedder


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
