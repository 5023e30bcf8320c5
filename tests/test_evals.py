"""Eval harness pieces that need no corpus: case files, strict answer scoring, report rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evals.all import build_report
from evals.answers import any_shared_word, strict_correct
from evals.cases import OWN_CASES, load_cases, summarise_cases
from evals.report import bars, histogram, latency_histogram, render
from evals.smoke import compare


def test_own_eval_set_loads_and_covers_every_case_type() -> None:
    cases = load_cases(OWN_CASES)
    assert len({c.id for c in cases}) == len(cases) >= 20
    kinds = {c.type for c in cases}
    assert {"single", "multi", "source", "temporal", "unanswerable", "injection"} <= kinds
    assert all(c.must_include for c in cases if c.answerable)
    assert all(c.must_not_include for c in cases if c.type == "injection")


def test_a_bad_case_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "question": "Q?", "answerable": true}\n{"id": "b", "answerable": true}\n')
    with pytest.raises(ValueError, match=r"cases\.jsonl:2"):
        load_cases(path)


def test_unknown_case_fields_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "question": "Q?", "answerable": true, "must_inclued": ["x"]}\n')
    with pytest.raises(ValueError, match=r"cases\.jsonl:1"):
        load_cases(path)


@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("Sam Bankman-Fried was convicted.", "Sam Bankman-Fried", True),
        ("Bankman was convicted.", "Sam Bankman-Fried", False),  # a shared word is not a correct answer
        ("Yes, both reports agree.", "Yes", True),
        ("Indeed they do.", "yes", True),
        ("No. They differ.", "Yes", False),
        ("The Eagles won.", "The Eagles", True),  # articles are ignored
        ("Theeagles", "eagles", False),  # whole words only
    ],
)
def test_strict_scoring(answer: str, gold: str, expected: bool) -> None:
    assert strict_correct(answer, gold) is expected


def test_any_shared_word_is_the_lenient_paper_metric() -> None:
    assert any_shared_word("Bankman was convicted.", "Sam Bankman-Fried")


def test_case_summary_counts_abstention_and_false_abstention() -> None:
    rows = [
        {
            "answerable": True,
            "status": "answered",
            "correct": True,
            "safe": True,
            "type": "single",
            "citation_precision": 1.0,
            "citation_recall": 1.0,
            "sentences": [{"supported": True}],
        },
        {
            "answerable": True,
            "status": "insufficient_evidence",
            "correct": False,
            "safe": True,
            "type": "single",
            "citation_precision": None,
            "citation_recall": 0.0,
            "sentences": [],
        },
        {
            "answerable": False,
            "status": "insufficient_evidence",
            "correct": True,
            "safe": True,
            "type": "unanswerable",
            "citation_precision": None,
            "citation_recall": None,
            "sentences": [],
        },
    ]
    summary = summarise_cases(rows)
    assert summary["answer_accuracy"] == 0.5
    assert summary["false_abstention_rate"] == 0.5
    assert summary["abstention_rate"] == 1.0
    assert summary["citation_recall"] == 0.5


def test_report_is_self_contained_html_with_charts() -> None:
    chart = bars("Retrieval", {"all": {"hits@10": 0.96, "mrr@10": 0.68}})
    spread = histogram("Latency", [10.0, 12.0, 40.0], unit=" ms")
    page = render(
        {"code_version": "abc", "writer": "extractive", "cases": {"n": 3}}, [chart, spread], [], False
    )
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 2
    assert "0.960" in page and "hits@10" in page
    assert "<script" not in page and "http" not in page  # nothing loaded from elsewhere


def test_the_headline_is_a_table_with_baseline_change_and_a_pass_or_fail_mark() -> None:
    baseline = {
        "answers": {"strict_accuracy": 0.30, "false_abstention_rate": 0.05, "per_type": {"x": {"n": 1}}}
    }
    current = {
        "answers": {"strict_accuracy": 0.20, "false_abstention_rate": 0.04, "per_type": {"x": {"n": 1}}}
    }
    page = render({"writer": "extractive", **current}, [], compare(baseline, current, 0.02), True)
    headline = page.split("<h2>Headline figures</h2>")[1].split("<h2>")[0]
    assert "<table" in headline and "<th>baseline</th>" in headline and "<th>change</th>" in headline
    fail_row = next(row for row in headline.split("<tr>") if "strict_accuracy" in row)
    assert "0.300<" in fail_row and "0.200<" in fail_row and "−0.100" in fail_row and "✘ fail" in fail_row
    assert "✔ pass" in next(row for row in headline.split("<tr>") if "false_abstention_rate" in row)
    assert "per_type" not in headline  # breakdowns stay in the full comparison below
    assert "1 of 2 compared figures fell" in headline
    alone = render({"writer": "extractive", **current}, [], compare({}, current, 0.02), False)
    assert "no baseline" in alone and "✘" not in alone


def test_the_cold_start_query_is_reported_apart_from_the_latency_spread() -> None:
    chart = latency_histogram("Retrieval latency", [4500.0] + [20.0 + i % 7 for i in range(200)])
    assert "first query (cold start, index load) 4500 ms" in chart
    assert "4500.00" not in chart  # the scale ends at the rest's 99th percentile, not at the cold start
    assert "n=200" in chart


def all_suites(answerability: float | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    summary = {
        "code_version": "abc",
        "writer": "extractive",
        "retrieval": {
            "per_type": {},
            "hits@1": 0.5,
            "hits@4": 0.8,
            "hits@10": 0.9,
            "mrr@10": 0.6,
            "article_recall@10": 0.8,
        },
        "answers": {"per_type": {}},
        "natural": {"small": {"n": 2, "abstention_rate": 1.0, "false_abstention_rate": 0.0}},
    }
    rows = [{"suite": "retrieval", "latency_ms": ms} for ms in (900.0, 20.0, 25.0)]
    rows += [{"suite": "cases", "sentences": [{"support": 1.0}]}]
    rows += [
        {"suite": "natural", "setting": "small", "answerable": answerable, "answerability": answerability}
        for answerable in (True, False)
    ]
    return summary, rows


def test_the_report_shows_answerability_not_self_support_and_only_when_answers_carry_it() -> None:
    page = build_report(*all_suites(0.7), None)
    assert "Support scores of shown sentences" not in page
    assert "Answerability scores, natural questions (small setting)" in page
    assert "answerable (n=1)" in page and "unanswerable (n=1)" in page
    without = build_report(*all_suites(None), None)
    assert "Answerability scores" not in without and "Support scores" not in without
