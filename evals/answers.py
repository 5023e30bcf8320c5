"""`newsdesk eval answers`: answer accuracy, abstention and citation quality of a writer on MultiHop-RAG queries.

Scoring is strict: an answer is correct when the normalised gold answer appears in the normalised answer as a whole
phrase (yes/no golds: the answer's first word, with synonyms mapped). The paper's any-shared-word score is reported
beside it only, because it is trivially gameable.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import string
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from evals.multihop import Query, load_queries
from rag.pipeline import Services, ask

YES = {"yes", "true", "correct", "indeed"}
NO = {"no", "false", "incorrect", "not"}
ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = "".join(" " if ch in string.punctuation else ch for ch in text)
    return " ".join(ARTICLES.sub(" ", text).split())


def strict_correct(answer: str, gold: str) -> bool:
    gold_n, answer_n = normalise(gold), normalise(answer)
    if gold_n in ("yes", "no"):
        first = answer_n.split()[:1]
        mapped = "yes" if first and first[0] in YES else "no" if first and first[0] in NO else ""
        return mapped == gold_n
    return bool(gold_n) and f" {gold_n} " in f" {answer_n} "


def any_shared_word(answer: str, gold: str) -> bool:
    return bool(set(normalise(answer).split()) & set(normalise(gold).split()))


def sample_queries(path: Path, limit: int | None, seed: int) -> list[Query]:
    queries = load_queries(path, include_null=True)
    if limit is None or limit >= len(queries):
        return queries
    by_type: dict[str, list[Query]] = defaultdict(list)
    for query in queries:
        by_type[query.question_type].append(query)
    rng = random.Random(seed)
    chosen: list[Query] = []
    for _, items in sorted(by_type.items()):
        share = max(1, round(limit * len(items) / len(queries)))
        chosen.extend(rng.sample(items, min(share, len(items))))
    return sorted(chosen, key=lambda q: q.qid)[:limit]


def run_answer_eval(
    services: Services,
    queries: list[Query],
    out: Path,
    *,
    url_of: dict[str, str],
    console: Console | None = None,
) -> dict[str, Any]:
    """``url_of`` maps article ids to corpus URLs (the gold evidence is named by URL)."""
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    with (
        (out / "results.jsonl").open("w", encoding="utf-8") as results,
        Progress(console=console, transient=True) as bar,
    ):
        task = bar.add_task(f"asking ({services.writer.name})", total=len(queries))
        for query in queries:
            started = time.perf_counter()
            answer = ask(services, query.text)
            cited_urls = [url_of.get(c.article_id, "") for c in answer.citations]
            gold = set(query.evidence_urls)
            row = {
                "qid": query.qid,
                "type": query.question_type,
                "query": query.text,
                "gold": query.answer,
                "answer": answer.answer,
                "status": answer.status,
                "strict": answer.status == "answered" and strict_correct(answer.answer, query.answer),
                "any_word": answer.status == "answered" and any_shared_word(answer.answer, query.answer),
                "cited_gold": sum(u in gold for u in cited_urls),
                "cited": len(cited_urls),
                "cited_gold_articles": len(set(cited_urls) & gold),
                "gold_articles": len(gold),
                "sentences": len(answer.sentences),
                "supported": sum(s.supported for s in answer.sentences),
                "seconds": round(time.perf_counter() - started, 3),
            }
            rows.append(row)
            results.write(json.dumps(row) + "\n")
            bar.advance(task)
    summary = summarise(rows)
    summary["writer"] = services.writer.name
    summary["prompt_id"] = services.writer.prompt_id
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["type"] != "null_query"]
    null = [r for r in rows if r["type"] == "null_query"]

    def mean(values: list[float]) -> float:
        return round(statistics.fmean(values), 4) if values else 0.0

    with_citations = [r for r in answerable if r["cited"]]
    return {
        "suite": "answers",
        "n": len(rows),
        "strict_accuracy": mean([float(r["strict"]) for r in answerable]),
        "any_shared_word_accuracy": mean([float(r["any_word"]) for r in answerable]),
        "null_abstention_rate": mean([float(r["status"] == "insufficient_evidence") for r in null]),
        "false_abstention_rate": mean([float(r["status"] == "insufficient_evidence") for r in answerable]),
        "citation_precision": mean([r["cited_gold"] / r["cited"] for r in with_citations]),
        "citation_recall": mean(
            [r["cited_gold_articles"] / r["gold_articles"] for r in answerable if r["gold_articles"]]
        ),
        "supported_sentence_share": mean([r["supported"] / r["sentences"] for r in rows if r["sentences"]]),
        "seconds_per_question": mean([r["seconds"] for r in rows]),
        "per_type": {
            kind: {
                "n": len(items),
                "strict_accuracy": mean([float(r["strict"]) for r in items]),
                "abstained": mean([float(r["status"] == "insufficient_evidence") for r in items]),
            }
            for kind, items in sorted(_group(rows).items())
        },
    }


def _group(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["type"]].append(row)
    return groups
