"""Title, body and section label of .txt articles (ingest/plaintext.py through the loader). Fictional text."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.articles import to_article
from ingest.loaders import read_records
from ingest.plaintext import split_plain_text

SEED_ARTICLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "seed" / "kharkiv.txt"


def load(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "story.txt"
    path.write_text(text, encoding="utf-8")
    (record,) = list(read_records(path))
    assert record.error is None and record.data is not None
    return record.data


def test_a_pipe_separated_section_label_is_the_category_not_the_title(tmp_path: Path) -> None:
    data = load(
        tmp_path,
        "Local|Top Story\n\nTamsin River Crests Above Flood Stage in Northfield\n\n"
        "The Tamsin River crested at 6.1 metres on Saturday night [fictional].\n\nSandbags held.\n",
    )
    assert data["title"] == "Tamsin River Crests Above Flood Stage in Northfield"
    assert data["category"] == "Local, Top Story"
    assert data["body"].startswith("The Tamsin River crested at 6.1 metres")
    assert "Crests Above Flood Stage" not in data["body"]
    article = to_article(data)
    assert article.category == "Local, Top Story" and article.title == data["title"]


@pytest.mark.parametrize(
    ("label", "category"),
    [
        ("BREAKING NEWS", "BREAKING NEWS"),
        ("World", "World"),
        ("Exclusive:", "Exclusive:"),
        ("Business › Markets", "Business, Markets"),
    ],
)
def test_kickers_and_section_lines_above_the_headline(label: str, category: str) -> None:
    plain = split_plain_text(
        f"{label}\nFerry strike ends after six weeks\nThe strike is over, the union said.\n"
    )
    assert (plain.title, plain.category) == ("Ferry strike ends after six weeks", category)
    assert plain.body == "The strike is over, the union said."


@pytest.mark.parametrize(
    "text",
    [
        # A headline with a site suffix after "|" is a headline, not a label.
        "Stocks rally as the central bank holds rates | Valley Wire\nShares rose on Monday.\n",
        # A short ordinary first line followed by prose stays the title.
        "Ferry strike ends\nThe strike is over.\n\nService resumes Monday.\n",
        # A section word line with no headline after it is all there is to call a title.
        "World\nThe summit ended without a statement, officials said.\n",
    ],
)
def test_the_first_line_stays_the_title_when_it_is_the_headline(text: str) -> None:
    plain = split_plain_text(text)
    assert plain.title == text.splitlines()[0].strip()
    assert plain.category == ""


def test_a_headline_repeated_as_the_first_body_line_is_dropped() -> None:
    plain = split_plain_text(
        "Ferry deal ratified\n\nFerry Deal Ratified\n\nMembers voted 289 to 44 on Friday.\n"
    )
    assert plain.title == "Ferry deal ratified"
    assert plain.body == "Members voted 289 to 44 on Friday."


@pytest.mark.skipif(not SEED_ARTICLE.exists(), reason="../shared/data/seed/kharkiv.txt is not here")
def test_the_seed_article_gets_its_real_headline_as_title() -> None:
    (record,) = list(read_records(SEED_ARTICLE))
    assert record.data is not None
    assert record.data["title"] == "Ukraine Withdraws Troops from Kharkiv Villages Amid Russian Pressure"
    assert record.data["category"] == "News, Top Story"
    assert record.data["body"].startswith("Ukraine has withdrawn its troops from several villages")
