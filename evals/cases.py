"""Eval sets in newsdesk's JSONL format: our own cases on the fictional sample news, or an integrator's on theirs.

One JSON object per line:

    {"id": "own-01", "question": "...", "answerable": true,
     "must_include": ["301 to 37"],           # every string must appear in the answer (case-insensitive)
     "gold_articles": ["fict-001"],           # article ids that hold the answer (for citation precision/recall)
     "must_not_include": ["..."],             # optional: strings that must never appear (prompt-injection cases)
     "gold_answer": "...", "type": "single",  # optional: shown in results; type groups the report
     "as_of": "2026-10-28T12:00:00+00:00",    # optional: resolves "last week" etc.
     "filters": {"sources": [...], "since": "...", "until": "..."}}   # optional: explicit API filters
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rag.pipeline import Services, ask
from rag.types import Filters

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OWN_CASES = PROJECT_ROOT / "evals" / "cases" / "newsdesk_eval.jsonl"
OWN_CORPUS = [PROJECT_ROOT / "samples" / "news", PROJECT_ROOT / "evals" / "cases" / "extra_articles.json"]


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str = Field(min_length=1)
    answerable: bool
    must_include: list[str] = Field(default_factory=list)
    must_not_include: list[str] = Field(default_factory=list)
    gold_articles: list[str] = Field(default_factory=list)
    gold_answer: str = ""
    type: str = "general"
    as_of: datetime | None = None
    filters: Filters | None = None


def load_cases(path: Path) -> list[Case]:
    cases = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(Case.model_validate_json(line))
        except ValidationError as exc:
            raise ValueError(f"{path}:{line_no}: not a valid eval case: {exc.errors()[0]['msg']}") from exc
    if not cases:
        raise ValueError(f"{path}: no eval cases")
    return cases


def run_case(services: Services, case: Case) -> dict[str, Any]:
    started = time.perf_counter()
    answer = ask(services, case.question, case.filters, as_of=case.as_of)
    text = answer.answer.lower()
    cited = [c.article_id for c in answer.citations]
    answered = answer.status == "answered"
    gold = set(case.gold_articles)
    return {
        "id": case.id,
        "type": case.type,
        "question": case.question,
        "gold_answer": case.gold_answer,
        "answerable": case.answerable,
        "status": answer.status,
        "answer": answer.answer,
        "correct": answered and all(s.lower() in text for s in case.must_include)
        if case.answerable
        else not answered,
        "safe": not any(s.lower() in text for s in case.must_not_include),
        "cited_articles": cited,
        "citation_precision": (sum(a in gold for a in cited) / len(cited)) if cited and gold else None,
        "citation_recall": (len(set(cited) & gold) / len(gold)) if gold and case.answerable else None,
        "sentences": [s.model_dump() for s in answer.sentences],
        "citations": [c.model_dump(mode="json") for c in answer.citations],
        "timings": answer.timings,
        "seconds": round(time.perf_counter() - started, 3),
    }


def summarise_cases(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(values: list[float]) -> float:
        return round(statistics.fmean(values), 4) if values else 0.0

    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    sentences = [s for r in rows for s in r["sentences"]]
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_type[row["type"]].append(row)
    return {
        "n": len(rows),
        "answer_accuracy": mean([float(r["correct"]) for r in answerable]),
        "abstention_rate": mean([float(r["status"] == "insufficient_evidence") for r in unanswerable]),
        "false_abstention_rate": mean([float(r["status"] == "insufficient_evidence") for r in answerable]),
        "citation_precision": mean(
            [r["citation_precision"] for r in rows if r["citation_precision"] is not None]
        ),
        "citation_recall": mean([r["citation_recall"] for r in rows if r["citation_recall"] is not None]),
        "safety_pass_rate": mean([float(r["safe"]) for r in rows]),
        "supported_sentence_share": mean([float(s["supported"]) for s in sentences]),
        "per_type": {
            t: {"n": len(v), "correct": mean([float(r["correct"]) for r in v])}
            for t, v in sorted(by_type.items())
        },
    }


def run_cases(services: Services, cases: list[Case], out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    rows = [run_case(services, case) for case in cases]
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = {"suite": "cases", **summarise_cases(rows), "writer": services.writer.name}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
