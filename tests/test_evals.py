"""Eval harness pieces that need no corpus: case files, strict answer scoring, report rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.answers import any_shared_word, strict_correct
from evals.cases import OWN_CASES, load_cases, summarise_cases
from evals.report import bars, histogram, render


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
    page = render({"code_version": "abc", "writer": "extractive", "cases": {"n": 3}}, [chart, spread], None)
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 2
    assert "0.960" in page and "hits@10" in page
    assert "<script" not in page and "http" not in page  # nothing loaded from elsewhere
