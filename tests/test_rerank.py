"""The sentence-level lexical rerank (rag/retrieval/rerank.py) on its own and inside the Retriever."""

from __future__ import annotations

from dataclasses import replace

from rag.pipeline import Services
from rag.retrieval.rerank import RerankConfig, evidence_score, idf_weights, question_terms, rerank

CONFIG = RerankConfig(depth=10, weight=1.0, window=1, phrase_share=0.3)


def _weights(terms: list[str]) -> dict[str, float]:
    return {term: 1.0 for term in terms}


def test_question_terms_are_stemmed_content_words_in_order_without_question_framing() -> None:
    terms = question_terms(
        "According to the article by the Valley Wire, how much did the ferry strikes cost?"
    )
    assert terms == ["valley", "wire", "much", "ferri", "strike", "cost"]


def test_a_sentence_holding_the_question_beats_its_terms_scattered_over_a_chunk() -> None:
    terms = question_terms("ferry strike cost businesses")
    stated = "The weather was mild. The ferry strike cost businesses 2 million dollars. Boats waited."
    scattered = "A ferry sailed. A strike was called. The cost was high. Businesses shut."
    assert evidence_score(terms, _weights(terms), stated, 1, 0.3) == 1.0
    assert evidence_score(terms, _weights(terms), scattered, 1, 0.3) < 0.5
    # A window of four sentences sees every term of the scattered chunk, but none of the question's phrases.
    assert evidence_score(terms, _weights(terms), scattered, 4, 0.3) == 0.7


def test_adjacent_question_terms_count_as_a_phrase() -> None:
    terms = question_terms("interest rates rose")
    phrase = "Interest rates rose in March."
    apart = "Rates of interest rose in March."
    assert evidence_score(terms, _weights(terms), phrase, 1, 0.5) > evidence_score(
        terms, _weights(terms), apart, 1, 0.5
    )


def test_rare_terms_weigh_more_and_unknown_terms_weigh_nothing() -> None:
    frequencies = {"ferri": 3, "said": 900}
    weights = idf_weights(["ferri", "said", "zyx"], lambda term: frequencies.get(term, 0), 1000)
    assert set(weights) == {"ferri", "said"}
    assert weights["ferri"] > weights["said"] > 0
    # Matching the rare term alone covers most of the question's weight.
    assert evidence_score(["ferri", "said"], weights, "The ferry left.", 1, 0.0) > 0.8


def test_rerank_moves_the_stating_chunk_up_and_keeps_the_tail_below() -> None:
    terms = question_terms("ferry strike cost businesses")
    ranked = [("other", 0.9), ("stated", 0.8), ("vague", 0.7), ("tail", 0.1)]
    texts = {
        "vague": "The ferry service resumed on Monday.",
        "other": "Council met on Tuesday.",
        "stated": "The ferry strike cost businesses 2 million dollars.",
        "tail": "The ferry strike cost businesses dearly.",
    }
    result = rerank(ranked, texts, terms, _weights(terms), replace(CONFIG, depth=3))
    assert [chunk_id for chunk_id, _ in result] == ["stated", "other", "vague", "tail"]
    scores = [score for _, score in result]
    assert scores == sorted(scores, reverse=True)


def test_rerank_off_or_without_usable_terms_keeps_the_order() -> None:
    ranked = [("a", 0.9), ("b", 0.8)]
    texts = {"a": "Nothing here.", "b": "The ferry strike."}
    terms = question_terms("ferry strike")
    assert rerank(ranked, texts, terms, _weights(terms), replace(CONFIG, depth=0)) == ranked
    assert rerank(ranked, texts, terms, {}, CONFIG) == ranked
    assert evidence_score([], {}, "The ferry strike.", 1, 0.3) == 0.0


def test_retriever_with_rerank_puts_the_stating_passage_first(loaded: Services) -> None:
    question = "How much had the ferry strike cost Port Halden businesses?"
    loaded.retriever.config = replace(loaded.retriever.config, rerank=RerankConfig(depth=30))
    reranked = loaded.retriever.search(question, 8)
    assert len(reranked) == 8
    assert "cost local businesses" in reranked[0].chunk.text
    scores = [p.score for p in reranked]
    assert scores == sorted(scores, reverse=True)


def test_rerank_settings_reach_the_retriever(loaded: Services) -> None:
    rerank_config = loaded.retriever.config.rerank
    assert (rerank_config.depth, rerank_config.weight) == (
        loaded.settings.rerank_depth,
        loaded.settings.rerank_weight,
    )
