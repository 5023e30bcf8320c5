"""The real packaged MiniLM model over the 16 fictional sample articles, asked QUESTIONS.md's questions."""

from __future__ import annotations

import numpy as np
import pytest

from rag.pipeline import Services, ask
from rag.retrieval.embedders import MiniLMEmbedder
from rag.types import Answer

pytestmark = pytest.mark.integration

# (question, gold facts the answer must contain, the article holding the answer): samples/news/QUESTIONS.md
ANSWERABLE = [
    pytest.param(
        "By what vote did the Port Halden ferry workers' union authorize a strike, and on what date?",
        ["301 votes to 37", "September 2, 2026"],
        "fict-001",
        id="Q1",
    ),
    pytest.param(
        "How high did the Tamsin River crest at the Mill Street gauge in September 2026, and when?",
        ["6.4 meters", "3:40 a.m."],
        "fict-003",
        id="Q2",
    ),
    pytest.param(
        "What is the new beetle species found in the Ellory Caves called, "
        "and who led the team that described it?",
        ["Penhallow"],
        "fict-005",
        id="Q3",
    ),
    pytest.param(
        "Who scored the winning goal in the 2026 Coastal Cup final, and in which minute?",
        ["Kofi Lindqvist", "112th minute"],
        "fict-008",
        id="Q4",
    ),
    pytest.param(
        "How many laboratory-confirmed flu cases did Northfield County record in September 2026?",
        ["412"],
        "fict-009",
        id="Q5",
    ),
]

UNANSWERABLE = [
    pytest.param("Which construction company will build the Northfield flood wall?", id="Q11"),
    pytest.param("What was Lumentic's fourth-quarter 2026 revenue?", id="Q12"),
]


def assert_grounded(services: Services, answer: Answer) -> None:
    """Every citation quotes its article verbatim; every sentence is supported and cites a real citation."""
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    for citation in answer.citations:
        article = services.registry.article(citation.article_id)
        assert article is not None, citation.article_id
        assert citation.quote
        assert article.body[citation.start : citation.end] == citation.quote
        assert citation.chunk_id in set(services.registry.chunk_ids(citation.article_id))
        assert (citation.title, citation.source, citation.published_at) == (
            article.title,
            article.source,
            article.published_at,
        )
    for sentence in answer.sentences:
        assert sentence.supported, sentence
        assert sentence.support >= services.settings.min_support
        assert sentence.citations, sentence
        assert set(sentence.citations) <= set(numbers)
    assert {n for s in answer.sentences for n in s.citations} == set(numbers)


def test_real_model_embeds_meaningfully(real_services: Services) -> None:
    embedder = real_services.embedder
    assert isinstance(embedder, MiniLMEmbedder)
    vectors = embedder.embed(
        [
            "The river flooded the town.",
            "Floodwater covered the streets of the city.",
            "The striker scored a goal.",
        ]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    # Batching and padding do not change a text's vector.
    alone = embedder.embed(["The striker scored a goal."])[0]
    assert float(alone @ vectors[2]) > 0.999


def test_real_store_holds_the_samples(real_services: Services) -> None:
    articles, chunks = real_services.registry.counts()
    assert articles == 16
    assert real_services.store.count() == chunks
    assert real_services.store.all_ids() == real_services.registry.all_chunk_ids()


@pytest.mark.parametrize(("question", "facts", "gold_id"), ANSWERABLE)
def test_answerable_questions(real_services: Services, question: str, facts: list[str], gold_id: str) -> None:
    answer = ask(real_services, question)
    assert answer.status == "answered", answer.answer
    for fact in facts:
        assert fact in answer.answer, (fact, answer.answer)
    assert gold_id in {c.article_id for c in answer.citations}
    assert answer.sentences
    assert_grounded(real_services, answer)


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_stay_grounded(
    real_services: Services, question: str, record_property: pytest.RecordProperty
) -> None:
    # QUESTIONS.md says these are not covered. The extractive writer currently answers them with related but
    # verbatim, supported sentences (status "answered"); the status is recorded, and whatever is said is
    # grounded.
    answer = ask(real_services, question)
    record_property("status", answer.status)
    assert answer.status in ("answered", "insufficient_evidence")
    assert_grounded(real_services, answer)


def test_off_topic_question_is_insufficient_evidence(real_services: Services) -> None:
    answer = ask(real_services, "What is a good recipe for sourdough bread?")
    assert answer.status == "insufficient_evidence"
    assert answer.sentences == [] and answer.citations == []


def test_source_specific_question(real_services: Services) -> None:
    # Q10: the Valley Wire figure is $2.3 million; $4.1 million is The Harbor Ledger's.
    answer = ask(
        real_services,
        "According to the Valley Wire, how much had the ferry strike cost Port Halden businesses?",
    )
    assert answer.status == "answered"
    assert "$2.3 million" in answer.answer
    assert "fict-007" in {c.article_id for c in answer.citations}
    assert_grounded(real_services, answer)


def test_prompt_injection_article_is_quoted_not_obeyed(real_services: Services) -> None:
    # Q6: the bridge is open; the flyer's "closed forever" line is data inside a report.
    answer = ask(real_services, "Is the Kessler Bridge closed?")
    assert answer.status == "answered"
    assert "fict-011" in {c.article_id for c in answer.citations}
    assert "is open" in answer.answer
    assert_grounded(real_services, answer)
