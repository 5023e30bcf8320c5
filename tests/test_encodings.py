"""Legacy-encoded .txt and .html files are decoded and reported; bytes that are no text are rejected. Fictional text."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.encoding import decode_text
from ingest.loaders import Decoding, read_records

CP1252_STORY = (
    "Council budget row in Northfield\n\n"
    "The mayor said the \u201cfinal\u201d cost was \u20ac4.2 million \u2014 more than planned [fictional]. "
    "It\u2019s the third rise this year.\n"
)
LATIN1_STORY = (
    "Caf\u00e9 festival opens in Port Halden\n\n"
    "Cr\u00e8me br\u00fbl\u00e9e and p\u00e2t\u00e9 were served on the quay; the ma\u00eetre d said the "
    "fa\u00e7ade was repainted [fictional].\n"
)
CP1252_PAGE = (
    "<html><head><title>Caf\u00e9 prices rise</title></head><body><article><h1>Caf\u00e9 prices rise</h1>"
    "<p>A \u201cfair\u201d espresso at the Northfield caf\u00e9 now costs \u20ac3.20, up from \u20ac2.90 last "
    "year, its owner said on Monday in a fictional report written for these tests.</p>"
    "<p>Regulars at the caf\u00e9 said they would keep coming \u2014 the view of the quay is worth it.</p>"
    "</article></body></html>"
)


def test_a_windows_1252_txt_file_is_decoded_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "budget.txt"
    path.write_bytes(CP1252_STORY.encode("cp1252"))
    (record,) = list(read_records(path))
    assert record.error is None and record.data is not None
    assert record.data["title"] == "Council budget row in Northfield"
    assert "the \u201cfinal\u201d cost was \u20ac4.2 million \u2014 more" in record.data["body"]
    assert "It\u2019s the third rise" in record.data["body"]
    assert record.decoded == Decoding(str(path), "cp1252")


def test_a_latin_1_txt_file_keeps_its_accents(tmp_path: Path) -> None:
    path = tmp_path / "cafe.txt"
    path.write_bytes(LATIN1_STORY.encode("latin-1"))
    (record,) = list(read_records(path))
    assert record.data is not None
    assert record.data["title"] == "Caf\u00e9 festival opens in Port Halden"
    assert "Cr\u00e8me br\u00fbl\u00e9e and p\u00e2t\u00e9" in record.data["body"]
    assert "fa\u00e7ade" in record.data["body"]
    # Browsers read Latin-1 as Windows-1252 (its superset for text), and so does the report.
    assert record.decoded is not None and record.decoded.encoding == "cp1252"


def test_a_windows_1252_html_page_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "cafe.html"
    path.write_bytes(CP1252_PAGE.encode("cp1252"))
    (record,) = list(read_records(path))
    assert record.error is None and record.data is not None
    assert (
        "A \u201cfair\u201d espresso at the Northfield caf\u00e9 now costs \u20ac3.20" in record.data["body"]
    )
    assert record.decoded is not None and record.decoded.encoding == "cp1252"


def test_a_utf8_file_is_not_reported_as_decoded(tmp_path: Path) -> None:
    path = tmp_path / "budget.txt"
    path.write_text(CP1252_STORY, encoding="utf-8")
    (record,) = list(read_records(path))
    assert record.data is not None and record.decoded is None
    assert "\u20ac4.2 million" in record.data["body"]


def test_a_cyrillic_code_page_is_not_taken_for_windows_1252() -> None:
    russian = "Новости дня\nСовет города утвердил бюджет на следующий год, сообщил мэр."
    decoded = decode_text(russian.encode("cp1251"))
    assert (decoded.text, decoded.encoding) == (russian, "cp1251")


def test_random_bytes_are_rejected_with_a_clear_reason(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(bytes(range(256)) + os.urandom(512))
    (record,) = list(read_records(path))
    assert record.data is None and record.decoded is None
    assert record.error is not None
    assert record.error.startswith("not UTF-8 (byte 128) and no text encoding fits it")


def test_json_stays_utf8_only(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_bytes('{"title": "Caf\u00e9", "body": "Cr\u00e8me"}\n'.encode("latin-1"))
    (record,) = list(read_records(path))
    assert record.error is not None and record.error.startswith("not UTF-8 text")
