"""The load generator: its figures, its ingest stream, and a short real run against `newsdesk serve`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from evals.loadtest import LoadOptions, Outcome, ingest_bodies, percentile, run_load, summarise


def test_summary_counts_errors_and_takes_percentiles_of_successes_only() -> None:
    outcomes = [Outcome("ask", 200, float(ms)) for ms in range(1, 101)]
    outcomes += [Outcome("ask", 500, 9999.0, "boom"), Outcome("ingest", 0, 5.0, "ConnectError: refused")]
    outcomes += [Outcome("ingest", 200, 40.0)]
    result = summarise(outcomes, elapsed_s=10.0)
    assert result["requests"] == 103 and result["errors"] == 2 and result["per_s"] == 10.3
    ask = result["ops"]["ask"]
    assert (ask["n"], ask["errors"], ask["p50_ms"], ask["p99_ms"]) == (101, 1, 51.0, 99.0)
    assert ask["status"] == {"200": 100, "500": 1}
    assert result["ops"]["ingest"]["p95_ms"] == 40.0
    assert [e["error"] for e in result["error_samples"]] == ["boom", "ConnectError: refused"]
    assert percentile([], 0.5) == 0.0


def test_ingest_stream_sends_new_articles_then_changed_versions() -> None:
    held = [{"id": "a", "body": "one"}, {"id": "b", "body": "two"}]
    first_five = list(itertools.islice(ingest_bodies(held), 5))
    assert [r["id"] for r in first_five] == ["a", "b", "a", "b", "a"]
    assert first_five[0]["body"] == "one"
    assert first_five[2]["body"] != "one" and first_five[2]["body"].startswith("one")
    assert first_five[4]["body"] != first_five[2]["body"]  # each round is a new version


@pytest.mark.server
@pytest.mark.integration
def test_short_load_against_a_real_server(tmp_path: Path, sample_articles: list[dict[str, Any]]) -> None:
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(sample_articles), encoding="utf-8")
    queries = tmp_path / "queries.json"
    questions = [
        "Who scored the winning goal in the Coastal Cup final?",
        "How high did the Tamsin River crest?",
    ]
    queries.write_text(
        json.dumps([{"query": q, "answer": "", "question_type": "inference_query"} for q in questions]),
        encoding="utf-8",
    )
    options = LoadOptions(
        corpus=corpus,
        queries=queries,
        out=tmp_path / "out",
        clients=4,
        duration_s=3,
        ingest_share=0.3,
        held_back=4,
    )
    result = run_load(options, Console(quiet=True))
    load = result["load"]
    assert result["store"]["articles"] == 12
    assert load["errors"] == 0, load["error_samples"]
    assert load["ops"]["ask"]["n"] > 0 and load["ops"]["ingest"]["n"] > 0
    assert json.loads((tmp_path / "out" / "load.json").read_text())["load"]["requests"] == load["requests"]
