"""A quick look at the local writer on natural questions: answers and write latency (p50/p95), printed.

    python -m evals.local_writer_probe --data-dir STORE --questions ../shared/data/natural/questions.json

Takes a fixed, type-stratified sample (factoid, unanswerable, yes/no, outlet, dated, two-article) so the figures
are comparable run to run. Not the natural eval (`newsdesk eval natural`); a probe for speed and answer shape.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any

import rag  # noqa: F401  (no-telemetry environment first)
from rag.pipeline import build_services
from rag.settings import Settings

MIX = {"factoid": 5, "unanswerable": 3, "yesno": 3, "outlet": 2, "dated": 1, "multi": 1}


def sample(questions: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    chosen: list[dict[str, Any]] = []
    for kind, count in MIX.items():
        pool = [q for q in questions if q["type"] == kind]
        chosen += rng.sample(pool, min(count, len(pool)))
    return chosen


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9€$£%.]+", " ", text.lower()).strip()


def judge(question: dict[str, Any], short: str | None, refused: bool) -> str:
    if not question["answerable"]:
        return "ok" if refused else "WRONG (answered)"
    if refused:
        return "WRONG (refused)"
    gold = _norm(str(question.get("answer") or ""))
    got = _norm(short or "")
    if not got:
        return "no short answer"
    if question["type"] == "yesno":
        return "ok" if gold.split()[:1] == got.split()[:1] else "WRONG"
    return "ok" if gold and (gold in got or got in gold) else "differs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="Write the records as JSON here.")
    args = parser.parse_args()
    questions = sample(json.loads(args.questions.read_text(encoding="utf-8")), args.seed)
    settings = Settings(data_dir=args.data_dir, writer="local")
    services = build_services(settings)
    records: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    try:
        for question in questions:
            as_of = question.get("as_of")
            started = time.perf_counter()
            passages = services.retriever.search(
                question["question"], settings.retrieve_k, None, _date(as_of) if as_of else None
            )
            retrieved = time.perf_counter()
            cpu = time.process_time()
            draft = services.writer.write(question["question"], passages)
            written = time.perf_counter()
            cpu_s = time.process_time() - cpu
            short = draft.short_answer
            refused = draft.refusal is not None or not draft.sentences
            record = {
                "id": question["id"],
                "type": question["type"],
                "question": question["question"],
                "gold": question.get("answer"),
                "short_answer": short.text if short else None,
                "cited_source": passages[short.passage - 1].source if short else None,
                "evidence": [f"{s.text} {s.passages}" for s in draft.sentences],
                "refusal": draft.refusal,
                "verdict": judge(question, short.text if short else None, refused),
                "retrieve_s": round(retrieved - started, 2),
                "write_s": round(written - retrieved, 2),
                # CPU-seconds of the write over the threads: what it would take on idle cores.
                "write_cpu_s": round(cpu_s, 2),
                "reply": getattr(getattr(services.writer, "completion", None), "last_reply", None),
                "answerability": draft.answerability,
                "usage": getattr(getattr(services.writer, "completion", None), "last_usage", {}),
            }
            records.append(record)
            print(json.dumps(record, ensure_ascii=False), flush=True)
    finally:
        services.close()
    writes = sorted(r["write_s"] for r in records)
    summary = {
        "questions": len(records),
        "write_s_p50": round(statistics.median(writes), 2),
        "write_s_p95": round(writes[min(len(writes) - 1, round(0.95 * (len(writes) - 1)))], 2),
        "write_cpu_s_p50": round(statistics.median(r["write_cpu_s"] for r in records), 2),
        "total_s_p50": round(statistics.median(r["write_s"] + r["retrieve_s"] for r in records), 2),
        "verdicts": {
            v: sum(r["verdict"] == v for r in records) for v in sorted({r["verdict"] for r in records})
        },
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "threads": settings.local_threads,
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "records": records}, indent=2), encoding="utf-8")


def _date(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


if __name__ == "__main__":
    main()
