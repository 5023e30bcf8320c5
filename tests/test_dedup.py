"""Syndicated copies (same wire text from several outlets) are grouped at ingest and count once in retrieval."""

from __future__ import annotations

import itertools
from typing import Any

from ingest.pipeline import Ingestor
from rag.dedup import DUPLICATE_THRESHOLD, signature, similarity
from rag.pipeline import Services, ask

RECALL_QUESTION = "How many Brightlane X2 batteries did Lumentic recall over the overheating connector?"


def test_the_syndicated_pair_is_similar_and_nothing_else_is(sample_articles: list[dict[str, Any]]) -> None:
    signatures = {a["id"]: signature(a["body"]) for a in sample_articles}
    assert similarity(signatures["fict-015"], signatures["fict-016"]) >= DUPLICATE_THRESHOLD
    for a, b in itertools.combinations(sorted(signatures), 2):
        if {a, b} != {"fict-015", "fict-016"}:
            # Follow-ups of one story (the ferry strike, the battery launch and recall) are not copies.
            assert similarity(signatures[a], signatures[b]) < 0.2, (a, b)


def test_ingest_groups_the_copy_with_the_earlier_story(
    services: Services, ingestor: Ingestor, sample_articles: list[dict[str, Any]]
) -> None:
    report = ingestor.ingest(sample_articles)
    assert report.copies == 1
    stories = services.registry.stories()
    assert stories["fict-016"] == "fict-015"
    assert stories["fict-015"] == "fict-015"
    assert sum(1 for a, s in stories.items() if a != s) == 1


def test_retrieval_shows_one_copy_and_lists_the_other(loaded: Services) -> None:
    passages = loaded.retriever.search(RECALL_QUESTION, 8)
    articles = [p.chunk.article_id for p in passages]
    assert "fict-015" in articles
    assert "fict-016" not in articles
    assert all(p.copies == ["fict-016"] for p in passages if p.chunk.article_id == "fict-015")


def test_answer_citations_list_the_copies(loaded: Services) -> None:
    answer = ask(loaded, RECALL_QUESTION)
    recall_citations = [c for c in answer.citations if c.article_id == "fict-015"]
    assert recall_citations
    assert all(c.copies == ["fict-016"] for c in recall_citations)


def test_deleting_the_first_copy_promotes_the_next(loaded: Services) -> None:
    Ingestor(loaded).delete("fict-015")
    assert loaded.registry.stories()["fict-016"] == "fict-016"
    articles = [p.chunk.article_id for p in loaded.retriever.search(RECALL_QUESTION, 8)]
    assert "fict-016" in articles
