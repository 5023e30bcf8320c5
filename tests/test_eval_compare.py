"""The eval gate: which metrics are compared, and in which direction a change is a regression."""

from __future__ import annotations

from typing import Any

from evals.smoke import compare


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
