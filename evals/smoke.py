"""The CI eval smoke: our own eval set, a fixed sample of MultiHop-RAG dev queries and a slice of the natural
questions, compared with a baseline.

The sample is small enough for every CI run: a seeded stratified pick of dev queries, and a corpus of their gold
articles plus seeded distractors (not the whole 609-article corpus, whose ingest takes minutes); a fixed stratified
slice of 30 natural questions, each in its small store (other articles drawn from the slice's own gold articles, so
few chunks need embedding), and the seed article with our questions.
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from evals.answers import run_answer_eval, sample_queries
from evals.cases import OWN_CASES, OWN_CORPUS, PROJECT_ROOT, load_cases, run_cases
from evals.multihop import is_hit, load_corpus
from evals.retrieval import score_ranking
from ingest.articles import to_article
from ingest.loaders import expand_paths, read_records
from ingest.pipeline import Ingestor
from rag.pipeline import build_services
from rag.settings import Settings

# Lower is better for these; everything else numeric is higher-is-better. Timings are reported, never gated.
LOWER_IS_BETTER = ("false_abstention_rate",)
TIMING_MARKERS = ("seconds", "_ms", "latency")
COUNTS = {"n", "articles", "chunks", "seed", "limit"}
# Descriptions rather than scores (answer length, the spread of answerability scores): reported, never gated.
REPORTED_ONLY = {"answer_words", "answerability_scores"}
NATURAL_SLICE = 30


def code_version() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_smoke(
    out: Path, shared_data: Path, queries: int = 40, distractors: int = 60, seed: int = 0
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"suite": "smoke", "code_version": code_version(), "seed": seed}
    with tempfile.TemporaryDirectory(prefix="newsdesk-smoke-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "own")
        services = build_services(settings)
        records = [r for path in expand_paths(OWN_CORPUS) for r in read_records(path)]
        Ingestor(services).ingest(records)
        summary["cases"] = run_cases(services, load_cases(OWN_CASES), out / "cases")
        summary["settings"] = settings.model_dump(mode="json", include=_GATED_SETTINGS)
        services.close()

        picked = sample_queries(shared_data / "multihop" / "queries_dev.json", queries, seed)
        corpus = load_corpus(shared_data / "multihop" / "corpus.json")
        gold_urls = {u for q in picked for u in q.evidence_urls}
        others = [a for a in corpus if a["url"] not in gold_urls]
        chosen = [a for a in corpus if a["url"] in gold_urls] + random.Random(seed).sample(
            others, distractors
        )
        services = build_services(Settings(data_dir=Path(tmp) / "multihop"))
        Ingestor(services).ingest(chosen)
        dates = [d for d in (to_article(a).published_at for a in chosen) if d is not None]
        as_of = max(dates) if dates else None
        rows = []
        for query in [q for q in picked if q.question_type != "null_query"]:
            passages = services.retriever.search(query.text, 10, as_of=as_of)
            hits = [is_hit(p.chunk.text, query.facts) for p in passages]
            rows.append(score_ranking(hits, [p.url for p in passages], query.evidence_urls))
        summary["multihop_retrieval"] = {
            "n": len(rows),
            **{m: round(sum(r[m] for r in rows) / len(rows), 4) for m in ("hits@4", "hits@10", "mrr@10")},
            "articles": len(chosen),
        }
        url_of = {to_article(a).id: a["url"] for a in chosen}
        answers = run_answer_eval(services, picked, out / "multihop_answers", url_of=url_of)
        summary["multihop_answers"] = {k: v for k, v in answers.items() if k != "per_type"}
        services.close()
    summary.update(_natural_slice(out / "natural", shared_data))
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _natural_slice(out: Path, shared_data: Path) -> dict[str, Any]:
    from evals.natural import NaturalRun, run_natural  # evals.natural imports this module

    run = NaturalRun(out, shared_data, ("small", "seed"), limit=NATURAL_SLICE, distractors_from_slice=True)
    natural = run_natural(run)
    return {
        f"natural_{setting}": {k: v for k, v in natural[setting].items() if k not in ("per_type", "by_half")}
        for setting in run.settings
    }


_GATED_SETTINGS = {
    "embedder",
    "writer",
    "chunk_tokens",
    "chunk_overlap_tokens",
    "retrieve_k",
    "min_relevance",
    "min_support",
    "keyword_weight",
    "dense_weight",
    "rrf_k",
}


def load_summary(path: Path) -> dict[str, Any]:
    """A run's figures: a summary.json, or the --out folder of a run that holds one (what a user has in hand)."""
    file = path / "summary.json" if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        raise ValueError(f"{path} is a folder without a summary.json (give an eval run's --out folder)")
    if not file.is_file():
        raise ValueError(f"{path} does not exist (give an eval run's --out folder or its summary.json)")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file} is not a readable summary.json: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{file} is not an eval summary (expected a JSON object)")
    return data


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def compare(baseline: dict[str, Any], current: dict[str, Any], tolerance: float) -> list[dict[str, Any]]:
    """Per metric: baseline, current, delta and whether it regressed by more than ``tolerance``."""
    before, after = flatten(baseline), flatten(current)
    rows = []
    for name in sorted(set(before) | set(after)):
        leaf = name.rsplit(".", 1)[-1]
        old, new = before.get(name), after.get(name)
        gated = not (
            name.startswith("settings.")
            or leaf in COUNTS
            or any(marker in name for marker in TIMING_MARKERS)
            or bool(REPORTED_ONLY & set(name.split(".")))
        )
        regressed = False
        if gated and old is not None and new is not None:
            worse = (new - old) if leaf in LOWER_IS_BETTER else (old - new)
            regressed = worse > tolerance
        rows.append(
            {
                "metric": name,
                "baseline": old,
                "current": new,
                "delta": None if old is None or new is None else round(new - old, 4),
                "gated": gated,
                "regressed": regressed,
            }
        )
    return rows
