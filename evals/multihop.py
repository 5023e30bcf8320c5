"""MultiHop-RAG data and its official retrieval hit rule."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Query:
    qid: str
    text: str
    answer: str
    question_type: str
    facts: list[str]
    evidence_urls: list[str]


def load_queries(path: Path, include_null: bool = False) -> list[Query]:
    queries = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        if item["question_type"] == "null_query" and not include_null:
            continue
        evidence = item.get("evidence_list") or []
        queries.append(
            Query(
                qid=str(item.get("qid", item.get("index"))),
                text=item["query"],
                answer=item["answer"],
                question_type=item["question_type"],
                facts=[e["fact"] for e in evidence],
                evidence_urls=sorted({e["url"] for e in evidence}),
            )
        )
    return queries


def load_corpus(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON array of articles")
    return data


_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    return _SPACE.sub("", text)


def is_hit(chunk_text: str, facts: list[str]) -> bool:
    """Official rule: a chunk is a hit when any gold fact, whitespace removed, is a substring of it."""
    squashed = squash(chunk_text)
    return any(squash(fact) in squashed for fact in facts)
