from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.articles import to_article
from ingest.loaders import UnsupportedFile, expand_paths, read_records
from rag.settings import PROJECT_ROOT

SAMPLES_DIR = PROJECT_ROOT / "samples" / "news"
SAMPLES_JSON = SAMPLES_DIR / "fictional_news.json"

A = {"id": "a-1", "title": "First", "body": "The first article body."}
B = {"id": "a-2", "title": "Second", "text": "The second article body."}

NEWS_HTML = """<!doctype html><html><head><title>Harbor Ledger: Ferry deal ratified</title>
<meta property="og:site_name" content="The Harbor Ledger">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2026-10-24T07:00:00+00:00">
</head><body><nav><a href="/">Home</a> <a href="/sports">Sports</a></nav>
<article><h1>Ferry deal ratified</h1>
<p>Members of the Bay Ferry Workers Union ratified the new contract by 289 votes to 44 on Friday, ending a
strike that had halted crossings for weeks.</p>
<p>Full service on all routes will resume on Monday, October 26, the Halden Bay Ferry Company said in a
statement to passengers.</p>
<p>The deal gives workers a raise of 4.5 percent a year for three years plus a signing bonus of $1,200 for
each member.</p>
</article><footer>Copyright 2026 The Harbor Ledger. All rights reserved.</footer></body></html>"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_json_array(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", json.dumps([A, B]))
    records = list(read_records(path))
    assert [r.data for r in records] == [A, B]
    assert [r.error for r in records] == [None, None]
    assert [r.origin for r in records] == [f"{path}[0]", f"{path}[1]"]


def test_json_articles_wrapper(tmp_path: Path) -> None:
    path = write(tmp_path / "wrapped.json", json.dumps({"articles": [A, B], "generated": "today"}))
    assert [r.data for r in read_records(path)] == [A, B]


def test_json_single_object(tmp_path: Path) -> None:
    path = write(tmp_path / "one.json", json.dumps(A))
    records = list(read_records(path))
    assert len(records) == 1 and records[0].data == A and records[0].origin == str(path)


def test_json_array_with_a_non_object_item(tmp_path: Path) -> None:
    path = write(tmp_path / "mixed.json", json.dumps([A, "not an article", 3]))
    records = list(read_records(path))
    assert records[0].data == A
    assert records[1].data is None and records[1].error == "an article must be a JSON object, got str"
    assert records[2].error == "an article must be a JSON object, got int"


def test_malformed_json_file(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.json", '[{"title": "x",\n  "body": }]')
    records = list(read_records(path))
    assert len(records) == 1
    assert records[0].data is None
    assert records[0].error is not None and records[0].error.startswith("malformed JSON")
    assert "line 2" in records[0].error


def test_jsonl_with_a_malformed_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", f"{json.dumps(A)}\n{{not json}}\n\n{json.dumps(B)}\n")
    records = list(read_records(path))
    assert len(records) == 3  # the blank line is skipped
    assert records[0].data == A and records[0].origin == f"{path}:1"
    assert records[1].data is None and records[1].origin == f"{path}:2"
    assert records[1].error is not None and records[1].error.startswith("malformed JSON")
    assert records[2].data == B and records[2].origin == f"{path}:4"


def test_txt_first_line_is_the_title(tmp_path: Path) -> None:
    path = write(
        tmp_path / "story.txt", "  Ferry strike ends  \nThe strike is over.\n\nService resumes Monday.\n"
    )
    (record,) = list(read_records(path))
    assert record.error is None and record.data is not None
    assert record.data["title"] == "Ferry strike ends"
    assert record.data["body"] == "The strike is over.\n\nService resumes Monday."
    assert record.data["url"] == path.resolve().as_uri()
    article = to_article(record.data)
    assert article.id.startswith("a_")  # keyed by the file's URL: editing the file replaces the article


def test_txt_with_only_a_title_has_an_empty_body(tmp_path: Path) -> None:
    (record,) = list(read_records(write(tmp_path / "title-only.txt", "Just a title\n")))
    assert record.data is not None and record.data["body"] == ""


def test_html_is_extracted_with_trafilatura(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html", NEWS_HTML)
    (record,) = list(read_records(path))
    assert record.error is None and record.data is not None
    data = record.data
    assert data["title"] == "Ferry deal ratified"
    assert "ratified the new contract by 289 votes to 44" in data["body"]
    assert "signing bonus of $1,200" in data["body"]
    assert "All rights reserved" not in data["body"]  # boilerplate is left out
    assert "Sports" not in data["body"]
    assert data["source"] == "The Harbor Ledger"
    assert data["author"] == "Jane Doe"
    assert data["url"] == path.resolve().as_uri()
    article = to_article(data)
    assert article.published_at is not None and article.published_at.date().isoformat() == "2026-10-24"


def test_html_without_text_is_an_error_record(tmp_path: Path) -> None:
    (record,) = list(read_records(write(tmp_path / "empty.htm", "<html><head></head><body></body></html>")))
    assert record.data is None
    assert record.error == "no article text found in the HTML"


def test_non_utf8_file_gives_an_error_record(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(
        json.dumps({"title": "Café", "body": "Crème brûlée"}, ensure_ascii=False).encode("latin-1")
    )
    records = list(read_records(path))
    assert len(records) == 1
    assert records[0].data is None
    assert records[0].error is not None and "not UTF-8" in records[0].error
    assert records[0].origin == str(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes("\ufeff".encode() + json.dumps(A).encode())
    assert [r.data for r in read_records(path)] == [A]


def test_expand_paths_rejects_unknown_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "articles.csv", "title,body\n")
    with pytest.raises(UnsupportedFile, match=r"unsupported file type '\.csv'"):
        expand_paths([path])


def test_expand_paths_rejects_missing_path(tmp_path: Path) -> None:
    good = write(tmp_path / "a.json", json.dumps(A))
    with pytest.raises(UnsupportedFile, match="no such file or directory"):
        expand_paths([good, tmp_path / "missing.json"])


def test_expand_paths_walks_folders_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    files = [
        write(tmp_path / "b.json", "[]"),
        write(tmp_path / "a.txt", "T\nB"),
        write(tmp_path / "sub" / "c.jsonl", ""),
        write(tmp_path / "sub" / "d.HTML", "<p>x</p>"),
    ]
    write(tmp_path / "notes.md", "ignored in folders")
    assert expand_paths([tmp_path]) == sorted(files)


def test_sample_folder_loads_all_sixteen_articles() -> None:
    files = expand_paths([SAMPLES_DIR])
    assert files == [SAMPLES_JSON]
    records = list(read_records(SAMPLES_JSON))
    assert len(records) == 16 and all(r.error is None for r in records)
    assert [to_article(r.data).id for r in records] == [f"fict-{i:03d}" for i in range(1, 17)]
