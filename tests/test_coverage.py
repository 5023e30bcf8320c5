"""Questions that name something no article mentions are answered insufficient_evidence, saying which name."""

from __future__ import annotations

import pytest

from rag.answering.chat import chat
from rag.answering.compose import NO_ANSWER
from rag.pipeline import Services, ask, build_services
from rag.retrieval.coverage import question_names, unknown_names, unknown_terms
from rag.settings import Settings
from rag.storage.conversations import ConversationStore

KNOWN = "How high did the Tamsin River crest?"


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Who won the Port Halden marathon in 2026?", ["Port", "Halden"]),
        # Sentence openers, months, weekdays, outlet names and acronyms are not names of what is asked about.
        (
            "What did Valley Wire report on Monday, October 5? Did Shubha Satheesh agree?",
            ["Shubha", "Satheesh"],
        ),
        ("what did the CEO say about the flood?", []),
        ("Is Taylor Swift's tour, as reported by 'The Harbor Ledger', sold out?", ["Taylor", "Swift"]),
    ],
)
def test_question_names(question: str, names: list[str]) -> None:
    assert question_names(question, ["Valley Wire", "The Harbor Ledger"]) == names


def test_only_names_no_article_mentions_are_unknown(loaded: Services) -> None:
    retriever = loaded.retriever
    question = "What did Zorblatt Quexley say about the Tamsin River flood?"
    assert unknown_names(question, retriever.known_sources(), retriever.keyword) == ["Zorblatt", "Quexley"]
    assert unknown_names(KNOWN, retriever.known_sources(), retriever.keyword) == []


def test_ask_abstains_on_an_unknown_name_and_says_which(loaded: Services) -> None:
    answer = ask(loaded, "What did Zorblatt say about the Tamsin River crest?")
    assert answer.status == "insufficient_evidence"
    assert answer.answer == f"{NO_ANSWER} No article mentions “Zorblatt”."
    assert answer.sentences == [] and answer.citations == []
    assert ask(loaded, KNOWN).status == "answered"


def test_chat_abstains_on_an_unknown_name(loaded: Services) -> None:
    reply = chat(loaded, ConversationStore(), "What did Zorblatt say about the Tamsin River crest?")
    assert reply.answer.status == "insufficient_evidence"
    assert "“Zorblatt”" in reply.answer.answer


def test_the_check_can_be_switched_off(loaded: Services, settings: Settings) -> None:
    relaxed = build_services(settings.model_copy(update={"abstain_on_unknown_names": False}))
    try:
        answer = ask(relaxed, "What did Zorblatt say about how high the Tamsin River crested?")
        assert "Zorblatt" not in answer.answer
        assert answer.status == "answered"
    finally:
        relaxed.close()


def test_a_question_off_the_corpus_subjects_is_not_answered(loaded: Services) -> None:
    retriever = loaded.retriever
    off = "What is the best recipe for sourdough bread?"
    assert unknown_terms(off, retriever.known_sources(), retriever.keyword) == [
        "recipe",
        "sourdough",
        "bread",
    ]
    answer = ask(loaded, off)
    assert answer.status == "insufficient_evidence"
    assert answer.answer.endswith("No article mentions “recipe”, “sourdough”, “bread”.")
    # One unknown word among known ones is a paraphrase, not another subject.
    near = "How high did the Tamsin River crest, measured by hydrologists?"
    assert unknown_terms(near, retriever.known_sources(), retriever.keyword) == []
