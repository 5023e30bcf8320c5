from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsdesk.cli import app
from rag.settings import PROJECT_ROOT

SAMPLES_DIR = PROJECT_ROOT / "samples" / "news"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "hashing")
    return CliRunner()


def flat(text: str) -> str:
    """Output with line wrapping undone (rich wraps stderr messages at the console width)."""
    return " ".join(text.split())


def ingest_samples(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ingest", str(SAMPLES_DIR)])
    assert result.exit_code == 0, result.output


def test_ingest_then_reingest(runner: CliRunner, tmp_path: Path) -> None:
    first = runner.invoke(app, ["ingest", str(SAMPLES_DIR)])
    assert first.exit_code == 0, first.output
    assert "added 16, updated 0, unchanged 0, rejected 0" in first.stdout
    assert (tmp_path / "data" / "articles.sqlite3").exists()

    second = runner.invoke(app, ["ingest", str(SAMPLES_DIR / "fictional_news.json")])
    assert second.exit_code == 0, second.output
    assert "added 0, updated 0, unchanged 16, rejected 0 (0 chunks written" in second.stdout


def test_ingest_bad_records_exits_1_with_reasons(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps({"id": "ok-1", "title": "Good", "body": "A good article about the ferry strike."})
        + "\n"
        + json.dumps({"id": "no-body", "title": "Missing body"})
        + "\n"
        + "{broken\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 1
    output = flat(result.output)
    assert "added 1, updated 0, unchanged 0, rejected 2" in output
    assert "bad.jsonl:2: missing body (give 'body' or 'text')" in output
    assert "bad.jsonl:3: malformed JSON" in output


def test_ingest_reports_a_latin1_file_it_decoded(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(
        "Caf\u00e9 news\nCr\u00e8me br\u00fbl\u00e9e festival opens [fictional].".encode("latin-1")
    )
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert f"decoded {path} from cp1252 (not UTF-8)" in output
    assert "added 1, updated 0, unchanged 0, rejected 0" in output
    assert "1 file decoded from a legacy encoding" in output


def test_ingest_binary_file_exits_1_with_the_reason(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(bytes(range(256)))
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 1
    assert f"rejected {path}: not UTF-8 (byte 128) and no text encoding fits it" in flat(result.output)


def test_unknown_file_type_exits_2_before_writing(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text("title,body\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(SAMPLES_DIR), str(path)])
    assert result.exit_code == 2
    output = flat(result.output)
    assert "unsupported file type '.csv'" in output
    assert not (tmp_path / "data").exists()  # nothing was ingested, not even the good folder


def test_missing_path_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "no such file or directory" in flat(result.output)


def test_ask_json(runner: CliRunner) -> None:
    ingest_samples(runner)
    result = runner.invoke(app, ["ask", "--json", "Who scored the winning goal in the Coastal Cup final?"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "answered"
    assert "Lindqvist" in body["answer"]
    assert body["citations"] and all(c["quote"] for c in body["citations"])


def test_ask_json_off_topic(runner: CliRunner) -> None:
    ingest_samples(runner)
    result = runner.invoke(app, ["ask", "--json", "What is a good recipe for sourdough bread?"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "insufficient_evidence"


def test_ask_text_output_lists_citations(runner: CliRunner) -> None:
    ingest_samples(runner)
    result = runner.invoke(
        app, ["ask", "--source", "Valley Wire", "How much had the ferry strike cost Port Halden businesses?"]
    )
    assert result.exit_code == 0, result.output
    assert "status: answered" in result.stdout
    assert "[1] " in result.stdout and "Valley Wire, 2026-" in result.stdout
    assert "The Harbor Ledger" not in result.stdout


def test_ask_before_ingest_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", "Who won?"])
    assert result.exit_code == 2
    assert "no articles ingested yet" in flat(result.output)


def test_ask_blank_question_exits_2(runner: CliRunner) -> None:
    ingest_samples(runner)
    result = runner.invoke(app, ["ask", "   "])
    assert result.exit_code == 2
    assert "the question is empty" in flat(result.output)


TIMETABLE_ARTICLES = [
    {
        "id": f"timetable-{n}",
        "source": "Valley Wire",
        "published_at": published,
        "title": "Halden Bay ferry timetable changes",
        "body": "[Fictional sample written for newsdesk tests.] "
        f"The Halden Bay ferry timetable changed to {change}. "
        f"The Halden Bay ferry operator said the timetable change follows {reason}. "
        "The changed timetable keeps every other Halden Bay ferry sailing. "
        "The changed ferry sailing runs on weekdays only.",
    }
    for n, published, change, reason in [
        (1, "2026-03-03T09:00:00Z", "add an early sailing at 6:10 for commuters", "requests from commuters"),
        (2, "2026-03-17T09:00:00Z", "drop the late sailing at 22:40", "falling passenger numbers"),
    ]
]


def test_ask_as_of_reads_yesterday_from_that_date(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "timetable.json"
    path.write_text(json.dumps(TIMETABLE_ARTICLES), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(path), str(SAMPLES_DIR)]).exit_code == 0
    question = "How did the Halden Bay ferry timetable change yesterday?"
    cited = {}
    for as_of in ("2026-03-04", "2026-03-18T08:00:00+05:00"):
        result = runner.invoke(app, ["ask", "--json", "--k", "1", "--as-of", as_of, question])
        assert result.exit_code == 0, result.output
        cited[as_of] = {c["article_id"] for c in json.loads(result.stdout)["citations"]}
    assert cited == {"2026-03-04": {"timetable-1"}, "2026-03-18T08:00:00+05:00": {"timetable-2"}}


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2026-13-45", "error: --as-of '2026-13-45' is not an ISO date or date-time (e.g. 2026-10-07"),
        ("last tuesday", "error: --as-of 'last tuesday' is not an ISO date or date-time"),
        ("0001-01-01", "error: --as-of must be between 1800-01-01 and 2200-12-31"),
    ],
)
def test_ask_bad_as_of_is_a_one_line_error(runner: CliRunner, as_of: str, message: str) -> None:
    result = runner.invoke(app, ["ask", "--as-of", as_of, "Who won?"])
    assert result.exit_code == 2
    assert result.output.strip().startswith(message)
    assert len(result.output.strip().splitlines()) == 1
