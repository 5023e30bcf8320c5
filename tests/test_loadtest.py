"""The load generator: its figures, its ingest stream, and a short real run against `newsdesk serve`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from evals.loadtest import LoadOptions, Outcome, ingest_bodies, percentile, run_load, summarise
from evals.loadtest_live import LiveOptions, Record, Timed, run_live_load, summarise_live
from evals.loadtest_replicas import run_replicas_load


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


@pytest.mark.server
@pytest.mark.integration
@pytest.mark.postgres
def test_short_load_against_one_replica_then_two_on_postgres_and_chroma(
    tmp_path: Path, sample_articles: list[dict[str, Any]], pg_server: object
) -> None:
    """`loadtest --replicas 2` for a few seconds (``pg_server`` only for its skip when PostgreSQL is missing)."""
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(sample_articles), encoding="utf-8")
    queries = tmp_path / "queries.json"
    question = {"query": "How high did the Tamsin River crest?", "answer": "", "question_type": "inference_query"}
    queries.write_text(json.dumps([question]), encoding="utf-8")
    options = LoadOptions(
        corpus=corpus, queries=queries, out=tmp_path / "out", clients=4, duration_s=3, ingest_share=0.3, held_back=4
    )
    result = run_replicas_load(options, 2, Console(quiet=True))
    assert set(result["phases"]) == {"1", "2"}
    assert result["phases"]["1"]["store"]["articles"] == 12
    for phase in result["phases"].values():
        assert phase["load"]["errors"] == 0, phase["load"]["error_samples"]
        assert phase["load"]["ops"]["ask"]["n"] > 0 and phase["load"]["ops"]["ingest"]["n"] > 0
    assert json.loads((tmp_path / "out" / "replicas.json").read_text())["replicas"] == 2


def test_live_summary_splits_asks_by_phase_and_write_windows() -> None:
    options = LiveOptions(corpus=Path("c"), queries=Path("q"), out=Path("o"), read_only_s=10.0, write_batch=3)
    record = Record(
        asks=[Timed(float(t), 100.0 + t, 200) for t in range(20)] + [Timed(15.5, 5.0, 500, "boom")],
        # The third write started after the live phase (a late one): it counts as a write, not as a window.
        writes=[Timed(12.0, 4000.0, 200), Timed(17.0, 1000.0, 0, "ConnectError"), Timed(21.0, 5000.0, 200)],
        visible_from_submit_ms=[4200.0, 4300.0],
        visible_from_commit_ms=[200.0, 300.0],
        probes_unseen=1,
    )
    result = summarise_live(record, options, elapsed_s=20.0)
    asks = result["asks"]
    assert (asks["read_only"]["n"], asks["read_only"]["per_s"]) == (10, 1.0)
    assert (asks["live"]["n"], asks["live"]["errors"], asks["live"]["per_s"]) == (11, 1, 1.1)
    # Asks started while a write was in flight, 12-16 s and 17-18 s (a failed write counts too): 6 asks in 5 s.
    assert (asks["while_writing"]["n"], asks["while_writing"]["per_s"]) == (6, 1.2)
    assert (asks["between_writes"]["n"], asks["between_writes"]["per_s"]) == (5, 1.0)  # 10, 11, 16, 18, 19
    assert result["writing_share_of_live"] == 0.5
    assert result["throughput_live_vs_read_only"] == 1.1
    assert result["writes"] == {"n": 3, "errors": 1, "articles_each": 3, "p50_ms": 4000.0, "p95_ms": 5000.0}
    assert result["searchable"]["probed"] == 3 and result["searchable"]["from_commit_p95_ms"] == 300.0
    assert result["errors"] == 2 and [e["error"] for e in result["error_samples"]] == ["boom", "ConnectError"]


@pytest.mark.server
@pytest.mark.integration
def test_short_live_load_against_a_real_server(tmp_path: Path, sample_articles: list[dict[str, Any]]) -> None:
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(sample_articles), encoding="utf-8")
    queries = tmp_path / "queries.json"
    queries.write_text(
        json.dumps([{"query": "How high did the Tamsin River crest?", "answer": "", "question_type": "x"}]),
        encoding="utf-8",
    )
    options = LiveOptions(
        corpus=corpus,
        queries=queries,
        out=tmp_path / "out",
        clients=3,
        read_only_s=2,
        duration_s=4,
        write_every_s=2,
        write_batch=2,
        held_back=4,
        probes=2,
    )
    result = run_live_load(options, Console(quiet=True))
    load = result["load"]
    assert result["store"]["articles"] == 12
    assert load["errors"] == 0, load["error_samples"]
    assert load["asks"]["read_only"]["n"] > 0 and load["asks"]["live"]["n"] > 0 and load["writes"]["n"] >= 2
    assert load["searchable"]["probed"] >= 4
    assert json.loads((tmp_path / "out" / "live.json").read_text())["mode"] == "live"
