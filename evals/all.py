"""`newsdesk eval all`: every suite that applies, one summary.json, one results.jsonl and a report.html."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from evals.answers import run_answer_eval, sample_queries
from evals.cases import OWN_CASES, OWN_CORPUS, load_cases, run_cases
from evals.multihop import load_corpus
from evals.natural import NaturalRun, run_natural
from evals.report import PUBLISHED, bars, histogram, latency_histogram, render, split_histogram
from evals.retrieval import run_retrieval_eval
from evals.smoke import code_version, compare
from evals.summaries import run_summaries_eval
from evals.support import run_support_eval
from ingest.articles import to_article
from ingest.loaders import expand_paths, read_records
from ingest.pipeline import Ingestor
from rag.pipeline import build_services
from rag.settings import Settings


def _read_jsonl(path: Path, suite: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [
        {"suite": suite, **json.loads(line)} for line in path.read_text(encoding="utf-8").splitlines() if line
    ]


def run_all(
    out: Path,
    shared_data: Path,
    *,
    limit: int | None = None,
    seed: int = 0,
    data_dir: Path | None = None,
    baseline: dict[str, Any] | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    corpus_path = shared_data / "multihop" / "corpus.json"
    queries_path = shared_data / "multihop" / "queries_dev.json"
    store = data_dir or out / "store"
    settings = Settings(data_dir=store)
    summary: dict[str, Any] = {"suite": "all", "code_version": code_version(), "seed": seed, "limit": limit}
    summary["settings"] = settings.model_dump(mode="json", exclude={"openai_api_key"})

    console.print("retrieval (MultiHop-RAG dev)…")
    summary["retrieval"] = run_retrieval_eval(
        corpus_path, queries_path, out / "retrieval", limit=limit, data_dir=store, console=console
    )
    console.print("answers, citations and abstention (MultiHop-RAG dev)…")
    services = build_services(settings)
    url_of = {to_article(a).id: str(a.get("url", "")) for a in load_corpus(corpus_path)}
    answers = run_answer_eval(
        services, sample_queries(queries_path, limit, seed), out / "answers", url_of=url_of, console=console
    )
    summary["writer"] = services.writer.name
    services.close()
    summary["answers"] = answers
    console.print("own eval set (fictional news: single, multi, source, temporal, unanswerable, injection)…")
    with tempfile.TemporaryDirectory(prefix="newsdesk-all-") as tmp:
        own = build_services(Settings(data_dir=Path(tmp)))
        Ingestor(own).ingest([r for path in expand_paths(OWN_CORPUS) for r in read_records(path)])
        summary["cases"] = run_cases(own, load_cases(OWN_CASES), out / "cases")
        own.close()

    console.print("natural questions: full store, small stores, seed article…")
    natural = run_natural(
        NaturalRun(out / "natural", shared_data, data_dir=store, seed=seed, limit=limit), console
    )
    summary["natural"] = {k: natural[k] for k in ("full", "small", "seed", "half", "limit")}

    console.print("verifier calibration against human labels (QAGS)…")
    summary["support"] = run_support_eval(
        shared_data / "support",
        out / "support",
        min_support=settings.min_support,
        variants=["minilm"],
        limit=limit,
        console=console,
    )
    console.print("summaries: briefs against the writers' summaries (CNN/DailyMail)…")
    summary["summaries"] = run_summaries_eval(
        shared_data / "summaries" / "writer_summaries.json", out / "summaries", limit=limit, console=console
    )

    rows = (
        _read_jsonl(out / "retrieval" / "results.jsonl", "retrieval")
        + _read_jsonl(out / "support" / "results.jsonl", "support")
        + _read_jsonl(out / "answers" / "results.jsonl", "answers")
        + _read_jsonl(out / "cases" / "results.jsonl", "cases")
        + _read_jsonl(out / "natural" / "questions.jsonl", "natural")
    )
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "report.html").write_text(build_report(summary, rows, baseline), encoding="utf-8")
    return summary


def build_report(summary: dict[str, Any], rows: list[dict[str, Any]], baseline: dict[str, Any] | None) -> str:
    retrieval, answers = summary["retrieval"], summary["answers"]
    metrics = ("hits@1", "hits@4", "hits@10", "mrr@10", "article_recall@10")
    per_type = {t: {m: v[m] for m in metrics} for t, v in retrieval["per_type"].items()}
    per_type["all"] = {m: retrieval[m] for m in metrics}
    versus = {"newsdesk (this run)": {m: retrieval[m] for m in ("hits@4", "hits@10", "mrr@10")}, **PUBLISHED}
    answer_types = {
        t: {"strict accuracy": v["strict_accuracy"], "abstained": v["abstained"]}
        for t, v in answers["per_type"].items()
    }
    charts = [
        bars("Retrieval by question type (MultiHop-RAG dev)", per_type),
        bars("Retrieval against the published MultiHop-RAG numbers", versus),
        bars("Answers by question type", answer_types),
        latency_histogram("Retrieval latency", [r["latency_ms"] for r in rows if r["suite"] == "retrieval"]),
        histogram(
            "Seconds per answered question",
            [r["seconds"] for r in rows if r["suite"] == "answers"],
            unit=" s",
        ),
        *_natural_charts(summary.get("natural", {}), [r for r in rows if r["suite"] == "natural"]),
    ]
    return render(summary, charts, compare(baseline or {}, summary, 0.02), baseline is not None)


NATURAL_BARS = (
    "short_contains_gold",
    "yesno_accuracy",
    "two_part_accuracy",
    "abstention_rate",
    "false_abstention_rate",
    "citation_precision",
)


def _natural_charts(natural: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The natural questions per setting, and the answerability scores of answerable against unanswerable questions
    where the writer gives them (an extract always supports itself, so support scores would say nothing here)."""
    settings = {s: natural[s] for s in ("full", "small", "seed") if s in natural}
    charts = [
        bars(
            "Natural questions by setting",
            {s: {m: v[m] for m in NATURAL_BARS if m in v} for s, v in settings.items()},
        )
    ]
    for setting in settings:
        scored = [r for r in rows if r["setting"] == setting and r.get("answerability") is not None]
        if scored:
            charts.append(
                split_histogram(
                    f"Answerability scores, natural questions ({setting} setting)",
                    {
                        "answerable": [r["answerability"] for r in scored if r["answerable"]],
                        "unanswerable": [r["answerability"] for r in scored if not r["answerable"]],
                    },
                )
            )
    return charts
