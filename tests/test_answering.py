"""The reader (rag/answering): question typing, answer phrases, non-answer sentences, and answers that answer or
say the answer is not there — on small hand-made fictional articles."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.pipeline import Ingestor
from rag.answering.question import read_question
from rag.answering.sentences import not_an_answer_sentence
from rag.answering.spans import find_phrases
from rag.pipeline import Services, ask


@pytest.mark.parametrize(
    ("question", "kind", "first_type"),
    [
        ("Who scored the winning goal for Port Avel?", "factoid", "person"),
        ("How many ferries did the strike cancel?", "factoid", "number"),
        ("how much does the toll cost a month", "factoid", "money"),
        ("When did the bridge reopen?", "factoid", "date"),
        ("At which stadium did the Gulls play the final?", "factoid", "place"),
        ("According to Valley Wire, what share of voters backed the levy?", "factoid", "percent"),
        ("By what score did the Gulls win?", "factoid", "score"),
        ("how old is the new harbour master", "factoid", "age"),
        ("Did the council approve the budget?", "yesno", None),
        ("Is the ferry schedule consistent or inconsistent?", "choice", None),
        ("Why did the council delay the vote?", "why", None),
        ("What did the mayor do in response?", "open", None),
        (
            "Between the Gazette's report of May 2 and the Wire's of May 9, was there a change in tone?",
            "yesno",
            None,
        ),
        ("Does the Gazette article, which covers the vote, say the levy passed?", "yesno", None),
    ],
)
def test_questions_are_typed_by_what_answers_them(question: str, kind: str, first_type: str | None) -> None:
    shape = read_question(question)
    assert shape.kind == kind
    assert (shape.expects[0] if shape.expects else None) == first_type


def test_a_two_part_question_is_split_into_its_parts() -> None:
    shape = read_question("How old was the coach when he took charge, and how did his first game end?")
    assert shape.parts == ("How old was the coach when he took charge", "how did his first game end")
    assert shape.expects[0] == "age"


@pytest.mark.parametrize(
    ("sentence", "answer_type", "expected"),
    [
        ("The toll will cost €9.99 a month from May.", "money", "€9.99"),
        ("The repairs were priced at $1.35 billion by the agency.", "money", "$1.35 billion"),
        ("Turnout rose to 61.5% in the east ward.", "percent", "61.5%"),
        ("Okafor scored 84 goals in 85 games for the club.", "number", "84 goals"),
        ("The Gulls won 40-6 at home.", "score", "40-6"),
        ("The bridge reopened on October 3, 2023, after repairs.", "date", "October 3, 2023"),
        ("The river crested on Friday, September 11, 2026, at dawn.", "date", "Friday, September 11, 2026"),
        ("She trained in Uxbridge, Ontario, as a child.", "place", "Uxbridge, Ontario"),
        ("The 18-year-old centre signed on Friday.", "age", "18-year-old"),
    ],
)
def test_phrases_of_the_expected_type_are_found_verbatim(
    sentence: str, answer_type: Any, expected: str
) -> None:
    phrases = find_phrases(sentence, answer_type, counted="goals")
    assert expected in [p.text for p in phrases]
    phrase = next(p for p in phrases if p.text == expected)
    assert sentence[phrase.start : phrase.end] == expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("In what minute did Okafor score?", "Okafor scored in the 27th minute of the final.", "27th minute"),
        (
            "How many ferry berths does it have?",
            "It will have six ferry berths and a cafe.",
            "six ferry berths",
        ),
        (
            "How much more likely were commuters to be late?",
            "Commuters were 2.5 times likelier.",
            "2.5 times",
        ),
        (
            "How many laboratory-confirmed flu cases were there?",
            "The county counted 412 laboratory-confirmed flu cases in May.",
            "412 laboratory-confirmed flu cases",
        ),
    ],
)
def test_a_count_keeps_its_ordinal_its_whole_noun_and_times(
    question: str, sentence: str, expected: str
) -> None:
    shape = read_question(question)
    assert expected in [p.text for p in find_phrases(sentence, "number", shape.counted)]


def test_a_joining_word_inside_a_name_stays_when_question_words_are_dropped() -> None:
    from rag.answering.reader import _pieces
    from rag.text import content_terms

    found = find_phrases("She spoke at the Economic Club of New York on Monday.", "place")
    club = next(p for p in found if p.text.startswith("Economic"))
    assert club.text == "Economic Club of New York"
    kept = _pieces(club, set(content_terms("where did the mayor speak")))
    assert [p.text for p in kept] == ["Economic Club of New York"]
    # A question word still splits the name, and the joining word does not open the next piece.
    split = _pieces(club, set(content_terms("which club did the mayor visit")))
    assert [p.text for p in split] == ["Economic", "New York"]


def test_names_do_not_start_with_sentence_openers() -> None:
    phrases = [p.text for p in find_phrases("After the match, Dana Okafor thanked the fans.", "person")]
    assert "Dana Okafor" in phrases
    assert not any(p.startswith("After") for p in phrases)


@pytest.mark.parametrize(
    ("sentence", "title", "excluded"),
    [
        ("Harbor Council Approves Ferry Budget", "Harbor council approves ferry budget", True),
        ("Gulls Look Set For Coastal Cup Glory", "", True),
        ("Platinum Pick: Okafor to Score 3+ Goals (+2500)", "", True),
        ("Photo by Sam Reed / Getty Images", "", True),
        ("Sign up for our newsletter to get the morning briefing.", "", True),
        ("The council approved the ferry budget by seven votes to two.", "Harbor council approves", False),
    ],
)
def test_headlines_captions_odds_and_promos_are_not_answer_sentences(
    sentence: str, title: str, excluded: bool
) -> None:
    assert not_an_answer_sentence(sentence, title) is excluded


# A fictional article written for these tests.
HARBOR = {
    "id": "fict-harbor-1",
    "title": "Harbor council approves ferry budget after long debate",
    "source": "Test Gazette",
    "published_at": "2026-03-04T09:00:00+00:00",
    "body": (
        "FICTIONAL ARTICLE written for newsdesk's tests. "
        "The Port Avel harbor council approved the ferry budget on Tuesday by seven votes to two. "
        "Mayor Lena Orrin said the new ferry terminal will cost $4.2 million and open in June 2027. "
        "The council did not approve the proposed night service, citing low demand. "
        "Councillor Tomas Bell voted against the budget because the fares will rise by 12%. "
        "In response, Orrin ordered a review of the fare structure and promised a public hearing."
    ),
}


@pytest.fixture
def harbor(services: Services) -> Services:
    """A one-article store (the hashing embedder: these tests check the reader's rules, not the embedding)."""
    report = Ingestor(services).ingest([dict(HARBOR)])
    assert report.added == 1
    return services


def _body_at(answer_start: int, answer_end: int) -> str:
    return str(HARBOR["body"])[answer_start:answer_end]


def test_a_factoid_answer_opens_with_a_verbatim_cited_phrase(harbor: Services) -> None:
    answer = ask(harbor, "How much will the new ferry terminal cost?")
    assert answer.status == "answered"
    assert answer.short_answer is not None
    assert answer.short_answer.text == "$4.2 million"
    assert _body_at(answer.short_answer.start, answer.short_answer.end) == "$4.2 million"
    cited = next(c for c in answer.citations if c.n == answer.short_answer.citation)
    assert cited.start <= answer.short_answer.start < answer.short_answer.end <= cited.end
    assert answer.answer.startswith("$4.2 million [")
    assert len(answer.answer.split()) <= 45


def test_a_who_question_is_answered_by_the_doer_of_its_verb(loaded: Services) -> None:
    # The fictional sample article names the scorer before "scored" and the beaten side near "win ... final", which
    # is nearer more of the question's words.
    answer = ask(loaded, "Who scored the winning goal in the Coastal Cup final?")
    assert answer.short_answer is not None
    assert answer.short_answer.text == "Kofi Lindqvist"


def test_who_questions_get_a_name_that_is_not_in_the_question(harbor: Services) -> None:
    answer = ask(harbor, "Which councillor voted against the budget?")
    assert answer.short_answer is not None
    assert answer.short_answer.text == "Tomas Bell"


def test_yes_no_questions_are_answered_yes_or_no_with_the_deciding_sentence(harbor: Services) -> None:
    yes = ask(harbor, "Did the harbor council approve the ferry budget?")
    no = ask(harbor, "Did the council approve the proposed night service?")
    assert (yes.status, no.status) == ("answered", "answered")
    assert yes.answer.startswith("Yes") and no.answer.startswith("No")
    assert no.short_answer is not None and no.short_answer.text == "No"
    assert "did not approve the proposed night service" in _body_at(
        no.short_answer.start, no.short_answer.end
    )


def test_a_question_the_article_does_not_answer_is_refused_saying_what_is_missing(harbor: Services) -> None:
    answer = ask(harbor, "How tall is Lena Orrin?")
    assert answer.status == "insufficient_evidence"
    assert answer.short_answer is None and answer.citations == []
    assert "does not say how tall" in answer.answer
    assert answer.answerability is not None and answer.answerability < harbor.settings.min_answerability


def test_a_name_without_what_is_asked_of_it_is_refused(harbor: Services) -> None:
    # The article names Lena Orrin, but says nothing of a husband: a name beside the asked person is not an answer
    # ("Who is the CEO of Rivian?" once got a name from a sentence about Rivian's trucks).
    answer = ask(harbor, "Who is Lena Orrin's husband?")
    assert answer.status == "insufficient_evidence"
    assert answer.short_answer is None
    assert "“husband”" in answer.answer


def test_question_words_do_not_count_as_off_corpus_on_a_one_article_store(harbor: Services) -> None:
    # "What", "did", "do" appear in no article; they are not what the question is about.
    answer = ask(harbor, "What did Orrin do in response?")
    assert answer.status == "answered"
    assert "review of the fare structure" in answer.answer


def test_answerability_is_reported_for_answers(harbor: Services) -> None:
    answer = ask(harbor, "Why did Tomas Bell vote against the budget?")
    assert answer.status == "answered"
    assert answer.answerability is not None
    assert answer.answerability >= harbor.settings.min_answerability
    assert "fares will rise" in answer.answer


def test_an_outlets_name_is_not_an_off_corpus_word(services: Services) -> None:
    # The outlet's name is metadata, never in the article text; it must not make the question look off-subject.
    article = {**HARBOR, "source": "Metro Tech Daily"}
    assert Ingestor(services).ingest([article]).added == 1
    answer = ask(services, "What did Metro Tech Daily report about the ferry budget?")
    assert answer.status == "answered"
