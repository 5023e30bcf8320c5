"""Query understanding (outlets, dates against a fixed as_of) and reciprocal-rank fusion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rag.retrieval.query import analyze
from rag.retrieval.retrieve import fuse

SOURCES = ["The Verge", "TechCrunch", "The Age", "Fortune", "The Independent - Life and Style", "Valley Wire"]
AS_OF = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # a Thursday


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def test_outlets_named_in_the_question_are_recognised_in_order() -> None:
    analysis = analyze("As reported by both The Verge and TechCrunch, who faces trial?", SOURCES, AS_OF)
    assert analysis.sources == ["The Verge", "TechCrunch"]


def test_outlet_without_its_leading_article_is_recognised() -> None:
    assert analyze("What did Verge reporters say about Pixel 8?", SOURCES, AS_OF).sources == ["The Verge"]


def test_longest_outlet_name_wins() -> None:
    question = "Did 'The Independent - Life and Style' cover it?"
    assert analyze(question, SOURCES, AS_OF).sources == ["The Independent - Life and Style"]


def test_outlet_match_is_case_sensitive_so_common_phrases_do_not_match() -> None:
    # "the age of AI" is not the outlet The Age; "fortune" in lower case is a word, not Fortune magazine.
    assert analyze("Is this the age of AI, and who made a fortune?", SOURCES, AS_OF).sources == []


def test_outlet_names_are_removed_from_the_search_topic() -> None:
    analysis = analyze("What did TechCrunch report about the FTX trial?", SOURCES, AS_OF)
    assert "TechCrunch" not in analysis.topic
    assert "FTX trial" in analysis.topic


def test_publication_date_after_a_publication_word_becomes_a_day_window() -> None:
    analysis = analyze("After the report by Fortune on October 6, 2023, did rates rise?", SOURCES, AS_OF)
    assert [(w.since, w.until.date()) for w in analysis.days] == [(day(2023, 10, 6), day(2023, 10, 6).date())]


def test_event_date_without_a_publication_word_is_not_a_window() -> None:
    analysis = analyze("How many flu cases were recorded on September 30, 2026?", SOURCES, AS_OF)
    assert analysis.days == []
    assert analysis.range is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("an article published on 5 October 2023", day(2023, 10, 5)),
        ("the story posted 2023-10-07", day(2023, 10, 7)),
        ("the report on March 3", day(2026, 3, 3)),  # no year: the latest March 3 not after as_of
        ("the report on December 24", day(2025, 12, 24)),  # December 2026 is still ahead of as_of
    ],
)
def test_calendar_dates_resolve_against_as_of(text: str, expected: datetime) -> None:
    (window,) = analyze(text, SOURCES, AS_OF).days
    assert window.since == expected


def test_yesterday_is_the_day_before_as_of() -> None:
    (window,) = analyze("What happened yesterday?", SOURCES, AS_OF).days
    assert window.since == day(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("news since Tuesday", day(2026, 11, 24)),
        ("news since Thursday", day(2026, 11, 19)),  # the same weekday as as_of means a week back
        ("what happened last week", day(2026, 11, 19)),
        ("the past 3 days", day(2026, 11, 23)),
        ("stories this week", day(2026, 11, 23)),  # Monday of as_of's week
        ("stories this month", day(2026, 11, 1)),
        ("articles published in October", day(2026, 10, 1)),
        ("articles published in October 2023", day(2023, 10, 1)),
    ],
)
def test_relative_ranges_resolve_against_as_of(text: str, since: datetime) -> None:
    window = analyze(text, SOURCES, AS_OF).range
    assert window is not None
    assert window.since == since
    assert window.until.date() in (AS_OF.date(), day(2023, 10, 31).date(), day(2026, 10, 31).date())


def test_month_range_ends_on_the_months_last_day() -> None:
    window = analyze("articles published in February 2024", SOURCES, AS_OF).range
    assert window is not None
    assert (window.since, window.until.date()) == (day(2024, 2, 1), day(2024, 2, 29).date())


def test_fusion_rewards_agreement_between_rankings() -> None:
    fused = fuse([(1.0, ["a", "b", "c"]), (1.0, ["b", "a", "d"])], rrf_k=10)
    assert [item for item, _ in fused][:2] in (["a", "b"], ["b", "a"])
    assert dict(fused)["a"] == pytest.approx(dict(fused)["b"])
    assert dict(fused)["a"] > dict(fused)["c"] > 0


def test_fusion_weights_favour_the_heavier_ranking() -> None:
    fused = fuse([(1.0, ["dense-top", "shared"]), (3.0, ["keyword-top", "shared"])], rrf_k=10)
    # Agreement beats either top alone; between the two tops, the heavier ranking's wins.
    assert [item for item, _ in fused] == ["shared", "keyword-top", "dense-top"]
    assert dict(fused)["shared"] == pytest.approx(1.0 / 12 + 3.0 / 12)
