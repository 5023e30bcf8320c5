"""The eval gate: which metrics are compared, and in which direction a change is a regression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evals.smoke import compare
from newsdesk.cli import app


def rows_by_metric(
    baseline: dict[str, Any], current: dict[str, Any], tolerance: float = 0.02
) -> dict[str, Any]:
    return {row["metric"]: row for row in compare(baseline, current, tolerance)}


def test_a_drop_beyond_the_tolerance_regresses() -> None:
    rows = rows_by_metric({"cases": {"answer_accuracy": 0.75}}, {"cases": {"answer_accuracy": 0.70}})
    assert rows["cases.answer_accuracy"]["regressed"]
    assert rows["cases.answer_accuracy"]["delta"] == -0.05


def test_a_drop_within_the_tolerance_passes() -> None:
    rows = rows_by_metric({"r": {"hits@10": 0.97}}, {"r": {"hits@10": 0.96}})
    assert rows["r.hits@10"]["gated"]
    assert not rows["r.hits@10"]["regressed"]


def test_false_abstention_regresses_when_it_rises() -> None:
    rows = rows_by_metric({"a": {"false_abstention_rate": 0.02}}, {"a": {"false_abstention_rate": 0.10}})
    assert rows["a.false_abstention_rate"]["regressed"]
    falling = rows_by_metric({"a": {"false_abstention_rate": 0.10}}, {"a": {"false_abstention_rate": 0.0}})
    assert not falling["a.false_abstention_rate"]["regressed"]


def test_timings_counts_and_settings_are_reported_not_gated() -> None:
    baseline = {
        "a": {"seconds_per_question": 0.4, "n": 40},
        "r": {"latency_ms": {"p95": 10.0}},
        "settings": {"rrf_k": 10},
    }
    current = {
        "a": {"seconds_per_question": 9.0, "n": 4},
        "r": {"latency_ms": {"p95": 900.0}},
        "settings": {"rrf_k": 60},
    }
    rows = rows_by_metric(baseline, current)
    assert [name for name, row in rows.items() if row["gated"] or row["regressed"]] == []


def test_a_metric_missing_on_one_side_is_listed_without_a_verdict() -> None:
    rows = rows_by_metric({"a": {"old_metric": 1.0}}, {"a": {"new_metric": 0.5}})
    assert rows["a.old_metric"]["current"] is None
    assert not rows["a.old_metric"]["regressed"]
    assert rows["a.new_metric"]["baseline"] is None


def test_answer_length_and_answerability_spread_are_reported_not_gated() -> None:
    baseline = {
        "natural_small": {
            "answer_words": {"median": 40.0},
            "answerability_scores": {"unanswerable": {"mean": 0.2}},
        }
    }
    current = {
        "natural_small": {
            "answer_words": {"median": 90.0},
            "answerability_scores": {"unanswerable": {"mean": 0.9}},
        }
    }
    assert [name for name, row in rows_by_metric(baseline, current).items() if row["gated"]] == []


def write_run(folder: Path, accuracy: float) -> Path:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(
        json.dumps({"cases": {"answer_accuracy": accuracy}}), encoding="utf-8"
    )
    return folder


def test_compare_takes_two_run_folders_or_their_summaries(tmp_path: Path) -> None:
    before, after = write_run(tmp_path / "before", 0.8), write_run(tmp_path / "after", 0.8)
    folders = CliRunner().invoke(app, ["eval", "compare", str(before), str(after)])
    assert folders.exit_code == 0, folders.output
    assert "no gated metric regressed" in folders.output
    worse = write_run(tmp_path / "worse", 0.5)
    mixed = CliRunner().invoke(app, ["eval", "compare", str(before), str(worse / "summary.json")])
    assert mixed.exit_code == 1 and "cases.answer_accuracy" in mixed.output


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing", None, "does not exist"),
        ("empty-folder", "", "folder without a summary.json"),
        ("broken.json", "{not json", "not a readable summary.json"),
        ("list.json", "[1, 2]", "not an eval summary"),
    ],
)
def test_compare_with_a_bad_path_is_a_one_line_error(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    good = write_run(tmp_path / "good", 0.8)
    bad = tmp_path / name
    if content == "":
        bad.mkdir()
    elif content is not None:
        bad.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "compare", str(good), str(bad)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.output
