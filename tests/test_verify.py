from __future__ import annotations

from collections.abc import Callable

import pytest

from rag.answering.verify import NUMBER_MISMATCH_CAP, CheckedSentence, Verifier
from rag.retrieval.embedders import HashingEmbedder
from rag.types import DraftSentence, Passage

SPORT = (
    "Kofi Lindqvist scored in the 112th minute to win the Coastal Cup final. "
    "The Mariners beat Ashbury Rovers 3-2."
)
FLOOD = (
    "The Tamsin River crested at a record 6.4 meters at the Mill Street gauge. "
    "About 214 homes were evacuated in the Old Mill district."
)
CREST = "The Tamsin River crested at a record 6.4 meters at the Mill Street gauge."
HOMES = "About 214 homes were evacuated in the Old Mill district."


@pytest.fixture
def passages(make_passage: Callable[..., Passage]) -> list[Passage]:
    # Passage 1 is about football, passage 2 about the flood (it starts at offset 100 of its article).
    return [
        make_passage(SPORT, article_id="sport", start=10),
        make_passage(FLOOD, article_id="flood", start=100),
    ]


@pytest.fixture(params=["hashing", "no-embedder"])
def verifier(request: pytest.FixtureRequest) -> Verifier:
    return Verifier(HashingEmbedder() if request.param == "hashing" else None, min_support=0.6)


def check_one(verifier: Verifier, text: str, cited: list[int], passages: list[Passage]) -> CheckedSentence:
    (checked,) = verifier.check([DraftSentence(text=text, passages=cited)], passages)
    return checked


def test_verbatim_sentence_is_fully_supported(verifier: Verifier, passages: list[Passage]) -> None:
    checked = check_one(verifier, HOMES, [2], passages)
    assert checked.supported
    assert checked.support == 1.0
    (evidence,) = checked.evidence
    assert evidence.passage == 2
    assert evidence.span.text == HOMES
    # Offsets are in the article: the passage starts at 100.
    assert (evidence.span.start, evidence.span.end) == (100 + FLOOD.index(HOMES), 100 + len(FLOOD))


@pytest.mark.parametrize(
    "changed",
    [
        "About 215 homes were evacuated in the Old Mill district.",
        "The Tamsin River crested at a record 7.4 meters at the Mill Street gauge.",
    ],
)
def test_sentence_with_a_changed_number_is_unsupported(
    verifier: Verifier, passages: list[Passage], changed: str
) -> None:
    checked = check_one(verifier, changed, [2], passages)
    assert not checked.supported
    assert checked.evidence == []
    assert checked.support <= NUMBER_MISMATCH_CAP


def test_sentence_with_an_invented_name_scores_lower(verifier: Verifier, passages: list[Passage]) -> None:
    invented = "About 214 homes were evacuated in the Old Mill district by Acme Rescue."
    assert (
        check_one(verifier, invented, [2], passages).support
        < check_one(verifier, HOMES, [2], passages).support
    )


def test_citation_to_a_missing_passage_is_removed(verifier: Verifier, passages: list[Passage]) -> None:
    checked = check_one(verifier, CREST, [1, 99, 2], passages)
    assert checked.supported
    assert [e.passage for e in checked.evidence] == [2]


def test_only_citation_to_a_missing_passage_falls_back_to_the_best_passage(
    verifier: Verifier, passages: list[Passage]
) -> None:
    checked = check_one(verifier, CREST, [99], passages)
    assert checked.supported
    assert [e.passage for e in checked.evidence] == [2]
    assert checked.evidence[0].span.text == CREST


def test_uncited_sentence_gets_the_best_passage(verifier: Verifier, passages: list[Passage]) -> None:
    checked = check_one(verifier, "Kofi Lindqvist scored in the 112th minute.", [], passages)
    assert checked.supported
    assert [e.passage for e in checked.evidence] == [1]
    assert checked.evidence[0].span.start == 10  # first sentence of the passage at offset 10


def test_uncited_unsupported_sentence_gets_nothing(verifier: Verifier, passages: list[Passage]) -> None:
    checked = check_one(verifier, "A volcano erupted near the capital city yesterday.", [], passages)
    assert not checked.supported
    assert checked.evidence == []
    assert checked.support < 0.6


def test_wrong_citation_is_not_silently_reassigned(verifier: Verifier, passages: list[Passage]) -> None:
    # The flood sentence cites the football passage: it is unsupported there.
    checked = check_one(verifier, CREST, [1], passages)
    assert not checked.supported
    assert checked.evidence == []


def test_every_draft_sentence_is_checked_in_order(verifier: Verifier, passages: list[Passage]) -> None:
    draft = [
        DraftSentence(text=CREST, passages=[2]),
        DraftSentence(text="The Mariners beat Ashbury Rovers 3-2.", passages=[1]),
        DraftSentence(text="The Mariners beat Ashbury Rovers 4-0.", passages=[1]),
    ]
    checked = verifier.check(draft, passages)
    assert [c.text for c in checked] == [d.text for d in draft]
    assert [c.supported for c in checked] == [True, True, False]


def test_score_helper() -> None:
    verifier = Verifier(None)
    assert verifier.score(CREST, FLOOD) == 1.0
    assert verifier.score("The river crested at 7.4 meters.", FLOOD) == NUMBER_MISMATCH_CAP
    assert verifier.score("", FLOOD) == 0.0
    assert verifier.score("Ferry workers voted to strike.", FLOOD) == 0.0


def test_sentence_without_a_claim_is_unsupported(verifier: Verifier, passages: list[Passage]) -> None:
    # A small model's filler ("The answer is:") shares a word with many passages but claims nothing checkable.
    checked = check_one(verifier, "The homes are:", [2], passages)
    assert not checked.supported
    assert checked.support == 0.0


def test_negated_sentence_against_an_affirmative_one_is_unsupported(
    verifier: Verifier, passages: list[Passage]
) -> None:
    checked = check_one(
        verifier, "About 214 homes were not evacuated in the Old Mill district.", [2], passages
    )
    assert not checked.supported
    assert checked.support <= NUMBER_MISMATCH_CAP


def test_negated_sentence_matched_by_a_negated_one_is_supported(
    verifier: Verifier, make_passage: Callable[..., Passage]
) -> None:
    passage = make_passage("No homes were evacuated in the Old Mill district. The river fell overnight.")
    checked = check_one(verifier, "No homes were evacuated in the Old Mill district.", [1], [passage])
    assert checked.supported and checked.support == 1.0


def test_recombined_words_score_lower_than_the_sentence_they_came_from(verifier: Verifier) -> None:
    # Every word is in the passage (term recall alone says 1.0), but not in that order: bigram coverage drops.
    swapped = verifier.score("Ashbury Rovers beat the Mariners 3-2.", SPORT)
    assert swapped < verifier.score("The Mariners beat Ashbury Rovers 3-2.", SPORT) == 1.0


def test_a_shared_rare_term_counts_more_than_a_shared_common_one() -> None:
    # "district" is in every evidence sentence, "gauge" in one; both claims have the same bigrams and one unknown
    # word ("water"), so only the IDF weighting of the shared word tells them apart.
    evidence = (
        "The district gauge read 6.4 meters at noon. The district closed two schools. "
        "The district opened a shelter at the district hall."
    )
    verifier = Verifier(None)
    rare = verifier.score("Water read 6.4 meters at noon by the gauge.", evidence)
    common = verifier.score("Water read 6.4 meters at noon by the district.", evidence)
    assert rare > common


def test_a_verbatim_sentence_with_a_curly_possessive_name_is_fully_supported() -> None:
    evidence = "Google unveils new hardware: This week was Google’s annual hardware event in New York."
    assert Verifier().score(evidence, evidence) == 1.0
