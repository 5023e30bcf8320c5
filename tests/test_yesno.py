"""Yes/no verdicts (``rag.answering.yesno``) on small fictional cases: the claim's terms, the candidate sentences and
their scores are given directly, so each case checks one rule."""

from __future__ import annotations

from datetime import UTC, datetime

from rag.answering.yesno import Claim, Report, Verdict, contradicts, decide, read_claim, temporal_order
from rag.text import content_terms


def _claim(question: str, names: str) -> Claim:
    name_terms = set(content_terms(names))
    return read_claim(question, set(content_terms(question)), name_terms)


def _decide(claim: Claim, sentences: list[str], reports: list[Report] | None = None) -> Verdict:
    every = list(range(len(sentences)))
    return decide(claim, sentences, every, [1.0] * len(sentences), [0.8] * len(sentences), reports or [])


def test_a_sentence_that_carries_the_claim_says_yes() -> None:
    claim = _claim("Did the Port Avel council approve the ferry budget?", "Port Avel")
    sentences = [
        "Port Avel is a small harbour town on the north coast.",
        "The Port Avel council approved the ferry budget on Tuesday by seven votes to two.",
    ]
    assert _decide(claim, sentences) == Verdict("Yes", [1])


def test_a_negation_or_an_opposite_word_says_no() -> None:
    negated = _claim("Did the Port Avel council approve the night ferry service?", "Port Avel")
    sentences = ["The Port Avel council did not approve the night ferry service, citing low demand."]
    assert _decide(negated, sentences) == Verdict("No", [0])
    beaten = _claim(
        "Did the Kestrel Rovers beat the Marsh Wanderers on Saturday?", "Kestrel Rovers Marsh Wanderers"
    )
    lost = ["The Kestrel Rovers lost 2-1 to the Marsh Wanderers on Saturday in front of 4,000 fans."]
    assert _decide(beaten, lost) == Verdict("No", [0])
    passive = ["On Saturday the Kestrel Rovers were defeated by the Marsh Wanderers, 2-1."]
    assert _decide(beaten, passive).lead == "No"


def test_the_claims_subject_after_an_opposite_word_restates_the_claim() -> None:
    claim = _claim("Did the Kestrel Rovers lose to the Marsh Wanderers?", "Kestrel Rovers Marsh Wanderers")
    assert not contradicts(
        claim, "A late header sealed a 2-1 win over the Kestrel Rovers for the Marsh Wanderers."
    )
    assert contradicts(
        claim, "The Kestrel Rovers sealed a 2-1 win over the Marsh Wanderers with a late header."
    )


def test_the_sentence_that_carries_most_of_the_claim_decides() -> None:
    claim = _claim("Did the unbeaten Kestrel Rovers make the county final?", "Kestrel Rovers")
    sentences = [
        "The unbeaten Kestrel Rovers drew a record crowd this season.",  # about them, not about the final
        "The unbeaten Kestrel Rovers were left out of the county final on goal difference.",
    ]
    assert _decide(claim, sentences) == Verdict("No", [1])


def test_no_verdict_when_no_sentence_is_about_the_claim() -> None:
    claim = _claim("Did the Port Avel council approve a solar roof for the ferry terminal?", "Port Avel")
    sentences = ["Port Avel's ferry terminal will open in June 2027, the mayor said."]
    verdict = _decide(claim, sentences)
    # No verdict; the best sentence is shown, and the reader falls back to its negation against the question's.
    assert verdict.lead is None and verdict.sentences == [0]


def test_two_reports_are_decided_per_report() -> None:
    claim = _claim(
        "Did both the Harbour Gazette and the Coast Courier report that the ferry terminal will open in June?",
        "Harbour Gazette Coast Courier",
    )
    sentences = [
        "The new ferry terminal will open in June, the council said.",
        "Officials confirmed the ferry terminal will open in June after a short delay.",
        "The ferry terminal will not open in June, a council source said.",
    ]
    gazette = Report("Harbour Gazette", None, [0])
    both = decide(
        claim, sentences, [0, 1], [1.0] * 3, [0.8] * 3, [gazette, Report("Coast Courier", None, [1])]
    )
    assert both == Verdict("Yes", [0, 1])
    # One report contradicts the other: the cues are too rough across reports to say No, so no verdict.
    split = decide(
        claim, sentences, [0, 2], [1.0] * 3, [0.8] * 3, [gazette, Report("Coast Courier", None, [2])]
    )
    assert split.lead is None and split.sentences == [0, 2]
    # A report with no sentence that binds the question leaves it undecided too.
    unbound = decide(
        claim, sentences, [0, 1], [1.0] * 3, [0.8, 0.1, 0.8], [gazette, Report("Coast Courier", None, [1])]
    )
    assert unbound.lead is None


def test_before_and_after_are_decided_by_publication_dates() -> None:
    early, late = datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
    reports = [Report("Harbour Gazette", early, [0]), Report("Coast Courier", late, [1])]
    asked = "Did the Harbour Gazette report on the ferry budget before the Coast Courier covered the strike?"
    assert temporal_order(asked, reports) == "Yes"
    assert temporal_order(asked.replace("before", "after"), reports) == "No"
    assert temporal_order(asked.replace("report on", "fail to report on"), reports) == "No"
    # "published after" describes a report; it does not ask about the order.
    described = "Did the Harbour Gazette article published after the Coast Courier's say the budget passed?"
    assert temporal_order(described, reports) is None


def test_another_amount_or_a_vote_against_contradicts_the_claim() -> None:
    cost = _claim("Will the Port Avel ferry terminal cost $9 million?", "Port Avel")
    assert contradicts(cost, "Mayor Lena Orrin said the Port Avel ferry terminal will cost $4.2 million.")
    assert not contradicts(cost, "The Port Avel ferry terminal will cost $9m, the mayor said.")
    vote = _claim("Did Councillor Tomas Bell vote for the ferry budget?", "Councillor Tomas Bell")
    assert contradicts(vote, "Councillor Tomas Bell voted against the ferry budget because fares will rise.")
