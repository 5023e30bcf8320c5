from __future__ import annotations

import itertools
from typing import Any

import pytest

from ingest.articles import to_article
from rag.chunking import Chunker, chunk_id
from rag.tokens import count_tokens

# Many short sentences: an overlap of 16 tokens can always carry whole sentences into the next chunk.
SHORT_SENTENCES = " ".join(f"Sentence number {i} is here." for i in range(120))


@pytest.mark.parametrize(("size", "overlap"), [(32, 8), (64, 16), (256, 32)])
def test_chunks_are_verbatim_slices_within_the_token_budget(
    sample_articles: list[dict[str, Any]], size: int, overlap: int
) -> None:
    chunker = Chunker(size, overlap)
    for record in sample_articles:
        article = to_article(record)
        chunks = chunker.split(article.id, article.content_hash, article.body)
        assert chunks, article.id
        for index, chunk in enumerate(chunks):
            assert chunk.index == index
            assert chunk.article_id == article.id
            assert article.body[chunk.start : chunk.end] == chunk.text
            assert count_tokens(chunk.text) <= size
        starts = [c.start for c in chunks]
        assert starts == sorted(starts) and len(set(starts)) == len(starts)
        # Together the chunks cover the body from its first to its last character.
        assert chunks[0].start == 0
        assert chunks[-1].end == len(article.body)


def test_small_chunks_split_long_bodies_into_many() -> None:
    chunks = Chunker(64, 16).split("a1", "h", SHORT_SENTENCES)
    assert len(chunks) > 10
    assert all(count_tokens(c.text) <= 64 for c in chunks)


def test_consecutive_chunks_overlap() -> None:
    chunks = Chunker(64, 16).split("a1", "h", SHORT_SENTENCES)
    for previous, following in itertools.pairwise(chunks):
        assert following.start < previous.end, (previous, following)
        shared = SHORT_SENTENCES[following.start : previous.end]
        assert previous.text.endswith(shared) and following.text.startswith(shared)


def test_no_overlap_when_overlap_is_zero() -> None:
    chunks = Chunker(64, 0).split("a1", "h", SHORT_SENTENCES)
    assert len(chunks) > 1
    assert all(b.start >= a.end for a, b in itertools.pairwise(chunks))


def test_overlap_must_be_smaller_than_chunk() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Chunker(64, 64)


def test_chunk_ids_are_stable_across_runs() -> None:
    first = Chunker(64, 16).split("fict-001", "hash-a", SHORT_SENTENCES)
    second = Chunker(64, 16).split("fict-001", "hash-a", SHORT_SENTENCES)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    # A pure function of (article id, content hash, index): the same value in every process and release.
    assert chunk_id("fict-001", "abc", 0) == "c_e1a37c76d88a3ecd4d06691a"
    assert first[0].id == chunk_id("fict-001", "hash-a", 0)


def test_chunk_ids_change_when_the_content_hash_changes() -> None:
    old = Chunker(64, 16).split("fict-001", "hash-a", SHORT_SENTENCES)
    new = Chunker(64, 16).split("fict-001", "hash-b", SHORT_SENTENCES)
    assert [c.text for c in old] == [c.text for c in new]
    assert not {c.id for c in old} & {c.id for c in new}


def test_chunk_ids_differ_between_articles() -> None:
    a = Chunker(64, 16).split("art-a", "same", SHORT_SENTENCES)
    b = Chunker(64, 16).split("art-b", "same", SHORT_SENTENCES)
    assert not {c.id for c in a} & {c.id for c in b}


def test_repeated_paragraphs_get_their_own_offsets() -> None:
    # A boilerplate paragraph repeated through the article: each chunk must point at its own occurrence.
    paragraphs = []
    for i in range(6):
        paragraphs.append(
            f"Paragraph {i} reports that the council discussed item {i} at length, "
            f"with residents speaking for and against the plan in district {i}."
        )
        paragraphs.append("Residents can watch the meeting online. Residents can watch the meeting online.")
    body = "\n\n".join(paragraphs)
    chunks = Chunker(32, 8).split("rep", "h", body)
    boilerplate = [c for c in chunks if c.text.startswith("Residents")]
    assert len(boilerplate) == 6
    for chunk in chunks:
        assert body[chunk.start : chunk.end] == chunk.text
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts))
    assert chunks[-1].end == len(body)
