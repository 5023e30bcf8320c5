from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest.articles import InvalidArticle, clean_text, to_article


def record(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "fict-100",
        "title": "Council approves flood wall",
        "body": "The council voted 7 to 2 on Tuesday.\n\nConstruction starts in 2027.",
        "source": "Valley Wire",
        "url": "https://valleywire.example.com/flood-wall",
        "published_at": "2026-09-30T10:00:00+00:00",
        "author": "A. Writer",
        "category": "politics",
    }
    base.update(overrides)
    return base


def test_valid_record_becomes_an_article() -> None:
    article = to_article(record())
    assert article.id == "fict-100"
    assert article.title == "Council approves flood wall"
    assert article.body.startswith("The council voted 7 to 2")
    assert article.source == "Valley Wire"
    assert article.published_at == datetime(2026, 9, 30, 10, 0, tzinfo=UTC)
    assert len(article.content_hash) == 64


def test_missing_body_is_rejected() -> None:
    data = record()
    del data["body"]
    with pytest.raises(InvalidArticle, match="missing body"):
        to_article(data)


@pytest.mark.parametrize("body", ["", "   ", "\n\n\t \n"])
def test_empty_body_is_rejected(body: str) -> None:
    with pytest.raises(InvalidArticle, match="empty body"):
        to_article(record(body=body))


def test_missing_title_is_rejected() -> None:
    with pytest.raises(InvalidArticle, match="missing title"):
        to_article(record(title="  "))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", 5, "title must be a string, got int"),
        ("source", ["Valley Wire"], "source must be a string, got list"),
        ("url", {"href": "x"}, "url must be a string, got dict"),
        ("author", True, "author must be a string, got bool"),
        ("body", ["a", "b"], "body must be a string, got list"),
        ("body", 42, "body must be a string, got int"),
    ],
)
def test_non_string_fields_are_rejected(field: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidArticle, match=message):
        to_article(record(**{field: value}))


def test_null_optional_fields_become_empty_strings() -> None:
    article = to_article(record(source=None, author=None, category=None, url=None))
    assert (article.source, article.author, article.category, article.url) == ("", "", "", "")


def test_non_object_record_is_rejected() -> None:
    with pytest.raises(InvalidArticle, match="JSON object, got list"):
        to_article([record()])


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "30/09/2026"])
def test_unparseable_published_at_is_rejected(value: str) -> None:
    with pytest.raises(InvalidArticle, match="not an ISO 8601 date"):
        to_article(record(published_at=value))


@pytest.mark.parametrize("value", [{"year": 2026}, [2026, 9, 30], True])
def test_published_at_of_the_wrong_type_is_rejected(value: Any) -> None:
    with pytest.raises(InvalidArticle, match="must be an ISO 8601 string"):
        to_article(record(published_at=value))


def test_published_at_millisecond_epoch_is_rejected_not_crashing() -> None:
    # Feeds often give epoch milliseconds; datetime.fromtimestamp raises ValueError/OverflowError for them,
    # which must surface as InvalidArticle (a rejection), not escape and abort the whole ingest batch.
    for value in (1_758_000_000_000, 1e20):
        with pytest.raises(InvalidArticle):
            to_article(record(published_at=value))


def test_published_at_forms() -> None:
    assert to_article(record(published_at="2026-09-30T10:00:00Z")).published_at == datetime(
        2026, 9, 30, 10, tzinfo=UTC
    )
    # No zone: taken as UTC.
    assert to_article(record(published_at="2026-09-30T10:00:00")).published_at == datetime(
        2026, 9, 30, 10, tzinfo=UTC
    )
    offset = to_article(record(published_at="2026-09-30T12:00:00+02:00")).published_at
    assert offset is not None and offset.utcoffset() == timedelta(hours=2)
    assert offset == datetime(2026, 9, 30, 10, tzinfo=UTC)
    # Epoch seconds are accepted.
    assert to_article(record(published_at=0)).published_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert to_article(record(published_at=None)).published_at is None
    assert to_article(record(published_at="")).published_at is None


@pytest.mark.parametrize("bad_id", ["has space", "/etc/passwd", "-leading-dash", "x" * 201, "é-accent", 123])
def test_bad_id_is_rejected(bad_id: Any) -> None:
    with pytest.raises(InvalidArticle, match="id must be"):
        to_article(record(id=bad_id))


@pytest.mark.parametrize("good_id", ["a", "fict-001", "reuters:2026.09_30", "A" * 200])
def test_good_ids_are_kept(good_id: str) -> None:
    assert to_article(record(id=good_id)).id == good_id


def test_text_is_an_alias_for_body() -> None:
    data = record()
    body = data.pop("body")
    article = to_article({**data, "text": body})
    assert article.body == to_article(record()).body
    # 'body' wins when both are given.
    assert to_article({**data, "body": "Body wins here.", "text": "Text loses."}).body == "Body wins here."


def test_id_is_derived_from_the_url() -> None:
    first = to_article(record(id=None, body="First version of the story."))
    edited = to_article(record(id="", body="Edited version of the story, with a correction."))
    other = to_article(record(id=None, url="https://valleywire.example.com/other"))
    assert first.id.startswith("a_") and len(first.id) == 22
    assert first.id == edited.id  # an edited page replaces its old version
    assert first.content_hash != edited.content_hash
    assert other.id != first.id


def test_id_without_url_is_derived_from_title_and_body() -> None:
    a = to_article(record(id=None, url=""))
    again = to_article(record(id=None, url="", source="Another outlet"))
    changed = to_article(record(id=None, url="", body="Different text."))
    assert a.id.startswith("a_")
    assert a.id == again.id
    assert a.id != changed.id


def test_content_hash_tracks_every_field() -> None:
    base = to_article(record()).content_hash
    assert to_article(record()).content_hash == base
    for change in (
        {"title": "Other"},
        {"body": "Other body."},
        {"source": "Other"},
        {"url": "https://x.example.com"},
        {"author": "Other"},
        {"category": "Other"},
        {"published_at": "2026-10-01T00:00:00Z"},
    ):
        assert to_article(record(**change)).content_hash != base, change


def test_text_is_cleaned() -> None:
    article = to_article(
        record(title=" Title\x00 ", body="Line one.\r\nLine two.   \n\n\n\n\nCafe\u0301 opens.\x07")
    )
    assert article.title == "Title"
    assert article.body == "Line one.\nLine two.\n\nCafé opens."


def test_clean_text_keeps_paragraph_breaks_and_tabs() -> None:
    assert clean_text("a\tb\n\nc") == "a\tb\n\nc"
    assert clean_text("\r\r\rx\r") == "x"
