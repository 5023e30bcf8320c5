"""Scoring for `newsdesk eval natural`: per-question scores and their aggregates, with no store or model.

Short answers are compared after normalisation (NFKC, casefold, curly quotes and dashes unified, zero-width
characters dropped, punctuation turned into spaces, the articles a/an/the removed), because the corpus keeps its
typography ("10-point", "€9.99", "Fainga’anuku") and a reader's answer need not. "Contains" means the normalised gold
appears in the normalised text as whole words ("1" is not found in "10").
"""

from __future__ import annotations

import re
import statistics
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evals.support import roc_auc

SHORT_GOLD_TYPES = ("factoid", "outlet", "dated")  # the types whose gold is a short phrase from the article
_TYPOGRAPHY = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "−": "-",
    }
)
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ARTICLES = {"a", "an", "the"}
_CITATION_MARKER = re.compile(r"\[(?:\d+(?:\s*,\s*\d+)*|unverified)\]")


def normalise(text: str) -> str:
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).translate(_TYPOGRAPHY).casefold()
    spaced = "".join(
        " " if ch in string.punctuation or unicodedata.category(ch).startswith("P") else ch for ch in text
    )
    return " ".join(word for word in spaced.split() if word not in _ARTICLES)


def contains(text: str, gold: str) -> bool:
    gold_n = normalise(gold)
    return bool(gold_n) and f" {gold_n} " in f" {normalise(text)} "


def token_f1(prediction: str, gold: str) -> float:
    predicted, wanted = normalise(prediction).split(), normalise(gold).split()
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if not predicted or not wanted or common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def answer_words(answer: str) -> int:
    """Words a reader reads: the answer text without its [n] citation markers."""
    return sum(1 for token in _CITATION_MARKER.sub(" ", answer).split() if any(ch.isalnum() for ch in token))


def yes_no_of(short_answer: str | None, answer: str) -> str:
    """The answer's verdict: the short answer's first word, or else the answer's first word (normalised)."""
    words = normalise(short_answer if short_answer else answer).split()
    return words[0] if words else ""


@dataclass(frozen=True)
class Outcome:
    """What one ask returned, as far as scoring goes."""

    status: str
    answer: str
    short_answer: str | None
    cited_urls: Sequence[str]
    answerability: float | None
    seconds: float


def score(
    question_type: str, answerable: bool, gold: str | None, gold_urls: Sequence[str], got: Outcome
) -> dict[str, Any]:
    """Per-question scores; None where a score does not apply to this question's type."""
    answered = got.status == "answered"
    cited, wanted = set(got.cited_urls), set(gold_urls)
    short_gold = question_type in SHORT_GOLD_TYPES and gold is not None
    short = got.short_answer if answered else None
    scores: dict[str, Any] = {
        "exact_match": None,
        "token_f1": None,
        "short_contains_gold": None,
        "answer_contains_gold": None,
        "yesno_correct": None,
        "two_part_correct": None,
        "abstained": got.status == "insufficient_evidence",
        "citation_precision": None,
        "answer_words": answer_words(got.answer) if answered else None,
    }
    if short_gold and gold is not None:
        scores["exact_match"] = short is not None and normalise(short) == normalise(gold)
        scores["token_f1"] = round(token_f1(short, gold), 4) if short is not None else 0.0
        scores["short_contains_gold"] = short is not None and contains(short, gold)
        scores["answer_contains_gold"] = answered and contains(got.answer, gold)
    if question_type == "yesno" and gold is not None:
        scores["yesno_correct"] = answered and yes_no_of(short, got.answer) == normalise(gold)
    if question_type == "multi":
        scores["two_part_correct"] = answered and bool(wanted) and wanted <= cited
    if answerable and answered and cited and wanted:
        scores["citation_precision"] = round(len(cited & wanted) / len(cited), 4)
    return scores


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _share(rows: list[dict[str, Any]], key: str) -> float | None:
    return _mean([float(r["scores"][key]) for r in rows if r["scores"][key] is not None])


def _percentiles(values: list[float], points: dict[str, float], digits: int = 1) -> dict[str, float]:
    if not values:
        return {}
    return {name: round(float(np.percentile(values, q)), digits) for name, q in points.items()}


def _distribution(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "mean": round(statistics.fmean(values), 4),
        **_percentiles(values, {"p10": 10, "median": 50, "p90": 90}, digits=4),
    }


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite's figures over ``rows`` (each with type, answerable, status, answerability, seconds, scores).

    A figure is left out when no row it applies to is present (no yes/no questions, no yes/no accuracy)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    figures: dict[str, Any] = {
        "n": len(rows),
        "exact_match": _share(rows, "exact_match"),
        "token_f1": _share(rows, "token_f1"),
        "short_contains_gold": _share(rows, "short_contains_gold"),
        "answer_contains_gold": _share(rows, "answer_contains_gold"),
        "yesno_accuracy": _share(rows, "yesno_correct"),
        "two_part_accuracy": _share(rows, "two_part_correct"),
        "abstention_rate": _mean([float(r["scores"]["abstained"]) for r in unanswerable]),
        "false_abstention_rate": _mean([float(r["scores"]["abstained"]) for r in answerable]),
        "citation_precision": _share(rows, "citation_precision"),
    }
    figures = {k: v for k, v in figures.items() if v is not None}
    words = [float(r["scores"]["answer_words"]) for r in rows if r["scores"]["answer_words"] is not None]
    if words:
        figures["answer_words"] = {"n": len(words), **_percentiles(words, {"median": 50, "p90": 90})}
    figures["latency_ms"] = _percentiles([1000 * r["seconds"] for r in rows], {"p50": 50, "p95": 95})
    scored = [r for r in rows if r["answerability"] is not None]
    if scored:
        figures["answerability_scores"] = {
            "answerable": _distribution([r["answerability"] for r in scored if r["answerable"]]),
            "unanswerable": _distribution([r["answerability"] for r in scored if not r["answerable"]]),
        }
        auc = roc_auc([r["answerability"] for r in scored], [r["answerable"] for r in scored])
        if auc is not None:
            figures["answerability_roc_auc"] = round(auc, 4)
    return figures


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Overall, per question type, and per dev half (each half again per type)."""

    def with_types(subset: list[dict[str, Any]]) -> dict[str, Any]:
        types = sorted({r["type"] for r in subset})
        return {
            **aggregate(subset),
            "per_type": {t: aggregate([r for r in subset if r["type"] == t]) for t in types},
        }

    halves = sorted({r["half"] for r in rows})
    return {
        **with_types(rows),
        "by_half": {h: with_types([r for r in rows if r["half"] == h]) for h in halves},
    }
