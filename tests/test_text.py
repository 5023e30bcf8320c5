from __future__ import annotations

import itertools
import json

import pytest

from rag.settings import PROJECT_ROOT
from rag.text import content_terms, is_headline_like, line_around, names, numbers, split_sentences, words

TEXT = (
    "Dr. Yusra Penhallow led the U.S. team. It found 11 beetles! Did it rain?  Yes.\n"
    'New paragraph here.\n\n   Mr. Smith said "we won." Then he left.'
)


def test_offsets_point_at_the_sentence_text() -> None:
    spans = split_sentences(TEXT)
    assert [s.text for s in spans] == [
        "Dr. Yusra Penhallow led the U.S. team.",
        "It found 11 beetles!",
        "Did it rain?",
        "Yes.",
        "New paragraph here.",
        'Mr. Smith said "we won."',
        "Then he left.",
    ]
    for span in spans:
        assert TEXT[span.start : span.end] == span.text


def test_base_shifts_offsets() -> None:
    plain = split_sentences(TEXT)
    shifted = split_sentences(TEXT, base=1000)
    assert [s.text for s in shifted] == [s.text for s in plain]
    for a, b in zip(plain, shifted, strict=True):
        assert (b.start, b.end) == (a.start + 1000, a.end + 1000)
        assert TEXT[b.start - 1000 : b.end - 1000] == b.text


@pytest.mark.parametrize(
    "sentence",
    [
        "Dr. Penhallow collected 11 specimens in the Lantern Room.",
        "The U.S. market opens next year for the battery.",
        "Lumentic Inc. and Harbor Co. signed the deal on Jan. 5 at 10 a.m. sharp.",
        "Cases rose sharply, e.g. in the Old Mill district.",
        "Sen. Brightwater met Gov. Pell and J. R. Tolkien fans.",
    ],
)
def test_abbreviations_do_not_split(sentence: str) -> None:
    spans = split_sentences(f"{sentence} Next sentence here.")
    assert [s.text for s in spans] == [sentence, "Next sentence here."]


def test_lines_always_break_sentences() -> None:
    spans = split_sentences("A headline without a stop\nThe body starts here.")
    assert [s.text for s in spans] == ["A headline without a stop", "The body starts here."]


def test_empty_and_blank_text() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\n  ") == []


def test_sample_bodies_round_trip() -> None:
    articles = json.loads(
        (PROJECT_ROOT / "samples" / "news" / "fictional_news.json").read_text(encoding="utf-8")
    )
    for article in articles:
        body = article["body"]
        spans = split_sentences(body)
        assert len(spans) > 5
        for span in spans:
            assert body[span.start : span.end] == span.text
            assert span.text == span.text.strip()
        assert [s.start for s in spans] == sorted(s.start for s in spans)
        assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_content_terms_numbers_and_names() -> None:
    assert content_terms("The rivers were flooding at 6.4 meters") == ["river", "flood", "6.4", "meter"]
    assert numbers("Up 1,200 votes to 6.4 in 2026") == {"1200", "6.4", "2026"}
    assert names("Yesterday the team met Dr. Penhallow in Northfield.") == {"dr", "penhallow", "northfield"}


def test_names_match_words_with_curly_apostrophes() -> None:
    sentence = "This week was Google’s annual hardware event."
    assert names(sentence) == {"google's"}
    assert names(sentence) <= set(words(sentence))


TITLE = "Tamsin River Crests Above Flood Stage in Northfield"


@pytest.mark.parametrize(
    ("sentence", "title", "line", "headline"),
    [
        (TITLE, TITLE, None, True),  # the title again
        (f"{TITLE}.", TITLE, None, True),
        ("Tamsin river crests above flood stage in Northfield", TITLE, None, True),
        (
            "Ferry deal ratified",
            "Ferry deal ratified | The Harbor Ledger",
            None,
            True,
        ),  # the title less its outlet
        ("Ferry Deal Is Ratified", "Ferry deal ratified", None, True),  # nearly the title
        (TITLE, "", None, True),  # a title-case line without terminal punctuation
        ("FLOOD WARNING ISSUED FOR TAMSIN", "", None, True),
        ("The Tamsin River crested at 6.1 metres on Saturday night.", TITLE, None, False),
        (
            "Tamsin River crests above flood stage in Northfield, officials said on Sunday.",
            TITLE,
            None,
            False,
        ),
        ("Sandbags held along the river", "", None, False),  # sentence case: not a headline
        (
            "Will the Fed Cut Rates Again?",
            "",
            None,
            False,
        ),  # terminal punctuation: a question, maybe reported
        ("By Jane Doe", "", None, False),  # too short to tell
        ("Northfield Council Votes Tonight", "", "He left. Northfield Council Votes Tonight", False),
        ("Northfield Council Votes Tonight", "", "  Northfield Council Votes Tonight ", True),
    ],
)
def test_is_headline_like(sentence: str, title: str, line: str | None, headline: bool) -> None:
    assert is_headline_like(sentence, title, line) is headline


def test_line_around_is_the_whole_line_of_a_span() -> None:
    text = f"{TITLE}\n\nThe river crested. Sandbags held.\nLast line"
    second = text.index("Sandbags")
    assert line_around(text, second, second + len("Sandbags held.")) == "The river crested. Sandbags held."
    assert line_around(text, 0, 5) == TITLE
    assert line_around(text, len(text) - 4, len(text)) == "Last line"
