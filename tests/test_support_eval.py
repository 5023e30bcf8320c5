"""`newsdesk eval support`: the metrics (checked against brute force) and the suite on a tiny QAGS-shaped file."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.support import (
    accuracy_at,
    best_threshold,
    load_judgements,
    repair_numbers,
    roc_auc,
    run_support_eval,
)
from newsdesk.cli import app


def brute_force_auc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_roc_auc_matches_the_pairwise_definition_with_ties() -> None:
    rng = random.Random(0)
    for _ in range(20):
        scores = [rng.choice([0.0, 0.25, 0.5, 0.75, 1.0]) for _ in range(40)]
        labels = [rng.random() < 0.6 for _ in range(40)]
        if all(labels) or not any(labels):
            continue
        assert roc_auc(scores, labels) == pytest.approx(brute_force_auc(scores, labels))


def test_roc_auc_edges() -> None:
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5
    assert roc_auc([0.5, 0.7], [True, True]) is None


def test_best_threshold_separates_when_it_can() -> None:
    scores, labels = [0.1, 0.3, 0.6, 0.9], [False, False, True, True]
    threshold, accuracy = best_threshold(scores, labels)
    assert 0.3 < threshold <= 0.6 and accuracy == 1.0
    assert accuracy_at(scores, labels, threshold) == 1.0


def test_repair_numbers_joins_split_numbers_only() -> None:
    assert repair_numbers("viewed more than 235, 000 times") == "viewed more than 235,000 times"
    assert (
        repair_numbers("lived to age 122. 5 and weighed 102. 5 kg")
        == "lived to age 122.5 and weighed 102.5 kg"
    )
    assert repair_numbers("on july 1, 1969, in 98. 7 per cent") == "on july 1, 1969, in 98.7 per cent"
    assert repair_numbers("He was 71. 2 Police said") == "He was 71. 2 Police said"


def qags_line(article: str, *sentences: tuple[str, list[str]]) -> str:
    return json.dumps(
        {
            "article": article,
            "summary_sentences": [
                {"sentence": s, "responses": [{"worker_id": i, "response": r} for i, r in enumerate(votes)]}
                for s, votes in sentences
            ],
        }
    )


ARTICLE = (
    "The Tamsin River crested at a record 6.4 meters at the Mill Street gauge. "
    "About 214 homes were evacuated in the Old Mill district. The council met on Tuesday."
)


@pytest.fixture
def support_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "support"
    folder.mkdir()
    (folder / "mturk_cnndm.jsonl").write_text(
        qags_line(
            ARTICLE,
            ("About 214 homes were evacuated in the Old Mill district.", ["yes", "yes", "no"]),
            ("About 300 homes were evacuated in the Old Mill district.", ["no", "no", "yes"]),
        )
        + "\n",
        encoding="utf-8",
    )
    (folder / "mturk_xsum.jsonl").write_text(
        qags_line(
            ARTICLE,
            ("The Tamsin River crested at a record 6.4 meters.", ["yes", "yes", "yes"]),
            ("A volcano erupted near the capital city yesterday.", ["no", "no", "no"]),
        )
        + "\n",
        encoding="utf-8",
    )
    return folder


def test_load_judgements_takes_the_majority_vote(support_dir: Path) -> None:
    items = load_judgements(support_dir)
    assert [(i.dataset, i.yes_votes, i.supported) for i in items] == [
        ("cnndm", 2, True),
        ("cnndm", 1, False),
        ("xsum", 3, True),
        ("xsum", 0, False),
    ]


def test_support_suite_writes_summary_and_results(support_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_support_eval(support_dir, out, min_support=0.6, variants=("none",))
    figures = summary["variants"]["none"]
    assert {"cnndm", "xsum", "all", "held_out"} <= set(figures)
    assert figures["all"]["n"] == 4 and figures["all"]["roc_auc"] == 1.0
    assert figures["all"]["accuracy_at_min_support"] == 1.0
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == summary
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["supported"] for r in rows] == [True, False, True, False]
    assert rows[0]["score_none"] == 1.0


def test_cli_eval_support(support_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app, ["eval", "support", "--data", str(support_dir), "--out", str(out), "--variant", "none"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["sentences"] == 4
