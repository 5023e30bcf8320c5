"""`newsdesk eval support`: the verifier's support score against human judgements (QAGS, Wang et al. 2020).

Every summary sentence of ``mturk_cnndm.jsonl`` and ``mturk_xsum.jsonl`` is scored with
``Verifier(embedder, min_support).score(sentence, article)`` against its whole article; the label is the majority vote
of its three annotators (supported = at least two said yes). Reported per dataset (cnndm, xsum, all) and per variant
(the packaged MiniLM embedder, and no embedder): ROC-AUC (rank-sum formula, ties averaged), accuracy at the configured
``min_support``, the best-accuracy threshold on that dataset (optimistic: chosen on the data it is measured on), and the
threshold chosen on CNN/DM applied to XSum (held-out).

The QAGS CNN/DM articles were tokenised and detokenised before release, which split numbers ("235, 000", "122. 5")
while the summaries spell them whole ("235,000"); ``repair_numbers`` joins such splits in the articles before scoring,
so the verifier's exact-number check compares like with like (it changes 4 of 714 CNN/DM labels' inputs in effect).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress

from rag.answering.verify import Verifier
from rag.retrieval.embedders import Embedder

DATASETS = ("cnndm", "xsum")
_SPLIT_THOUSANDS = re.compile(r"(\d), (\d{3})(?!\d)")  # "235, 000" -> "235,000" (not "july 1, 1969")
_SPLIT_DECIMAL = re.compile(r"(\d)\. (\d+)(?=\s*(?:[a-z%]|per\b))")  # "122. 5 kg" -> "122.5 kg"


def repair_numbers(text: str) -> str:
    """Undo the detokenisation artefact that splits numbers in the QAGS CNN/DM articles."""
    return _SPLIT_DECIMAL.sub(r"\1.\2", _SPLIT_THOUSANDS.sub(r"\1,\2", text))


@dataclass(frozen=True)
class Judgement:
    dataset: str
    summary: int  # index of the summary (line) in its file
    index: int  # index of the sentence in its summary
    sentence: str
    article: str
    yes_votes: int
    votes: int

    @property
    def supported(self) -> bool:
        return 2 * self.yes_votes > self.votes


def load_judgements(data_dir: Path) -> list[Judgement]:
    items: list[Judgement] = []
    for dataset in DATASETS:
        path = data_dir / f"mturk_{dataset}.jsonl"
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(row for row in handle if row.strip()):
                record = json.loads(line)
                for index, item in enumerate(record["summary_sentences"]):
                    responses = [r["response"].strip().lower() for r in item["responses"]]
                    items.append(
                        Judgement(
                            dataset=dataset,
                            summary=line_no,
                            index=index,
                            sentence=item["sentence"],
                            article=repair_numbers(record["article"]),
                            yes_votes=sum(r == "yes" for r in responses),
                            votes=len(responses),
                        )
                    )
    return items


class CachedEmbedder:
    """Memoises an embedder by text: articles are scored once per summary sentence and share their sentences; the
    natural eval's many small stores share their chunks' vectors."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing), strict=True):
                self._cache[text] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Take vectors computed earlier by the same embedder (a store's stored vectors of its chunk texts)."""
        for text, vector in zip(texts, vectors, strict=True):
            self._cache.setdefault(text, np.asarray(vector, dtype=np.float32))


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Mann-Whitney rank-sum AUC: P(score of a supported sentence > score of an unsupported one), ties count 1/2."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_scores = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def accuracy_at(scores: Sequence[float], labels: Sequence[bool], threshold: float) -> float:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    return float(np.mean((s >= threshold) == y)) if len(s) else 0.0


def best_threshold(
    scores: Sequence[float], labels: Sequence[bool], balanced: bool = False
) -> tuple[float, float]:
    """The threshold (midpoint between adjacent distinct scores) with the best accuracy (or balanced accuracy)."""
    distinct = np.unique(np.asarray(scores, dtype=np.float64))
    candidates = (
        [0.0, *((distinct[:-1] + distinct[1:]) / 2.0), float(distinct[-1]) + 1e-6] if len(distinct) else [0.0]
    )
    measure = balanced_accuracy_at if balanced else accuracy_at
    best = max(candidates, key=lambda t: (measure(scores, labels, t), -t))
    return round(float(best), 4), measure(scores, labels, best)


def balanced_accuracy_at(scores: Sequence[float], labels: Sequence[bool], threshold: float) -> float:
    """Mean of the recall of supported and of unsupported sentences: independent of the supported share."""
    s = np.asarray(scores, dtype=np.float64) >= threshold
    y = np.asarray(labels, dtype=bool)
    if y.all() or not y.any():
        return accuracy_at(scores, labels, threshold)
    return float((s[y].mean() + (~s[~y]).mean()) / 2.0)


def precision_recall_at(
    scores: Sequence[float], labels: Sequence[bool], threshold: float
) -> tuple[float, float]:
    """Of the sentences passed as supported, the share that annotators support; and the share of those passed."""
    s = np.asarray(scores, dtype=np.float64) >= threshold
    y = np.asarray(labels, dtype=bool)
    precision = float(y[s].mean()) if s.any() else 1.0
    recall = float(s[y].mean()) if y.any() else 1.0
    return precision, recall


def figures(scores: Sequence[float], labels: Sequence[bool], min_support: float) -> dict[str, Any]:
    if not len(labels):
        return {"n": 0}
    threshold, best_acc = best_threshold(scores, labels)
    balanced_threshold, best_balanced = best_threshold(scores, labels, balanced=True)
    auc = roc_auc(scores, labels)
    precision, recall = precision_recall_at(scores, labels, min_support)
    share = float(np.mean(labels))
    return {
        "n": len(labels),
        "supported_share": round(share, 4),
        "roc_auc": None if auc is None else round(auc, 4),
        "accuracy_at_min_support": round(accuracy_at(scores, labels, min_support), 4),
        "balanced_accuracy_at_min_support": round(balanced_accuracy_at(scores, labels, min_support), 4),
        "precision_at_min_support": round(precision, 4),
        "recall_at_min_support": round(recall, 4),
        "passed_share_at_min_support": round(float(np.mean(np.asarray(scores) >= min_support)), 4),
        "best_threshold": threshold,
        "best_accuracy": round(best_acc, 4),
        "best_balanced_threshold": balanced_threshold,
        "best_balanced_accuracy": round(best_balanced, 4),
        "majority_class_accuracy": round(max(share, 1 - share), 4),
    }


def summarise(items: Sequence[Judgement], scores: Sequence[float], min_support: float) -> dict[str, Any]:
    labels = [item.supported for item in items]
    by: dict[str, Any] = {}
    for dataset in DATASETS:
        keep = [i for i, item in enumerate(items) if item.dataset == dataset]
        by[dataset] = figures([scores[i] for i in keep], [labels[i] for i in keep], min_support)
    by["all"] = figures(scores, labels, min_support)
    cnn = [i for i, item in enumerate(items) if item.dataset == "cnndm"]
    xsum = [i for i, item in enumerate(items) if item.dataset == "xsum"]
    if cnn and xsum:
        held_out = {}
        for name, balanced in (("accuracy", False), ("balanced_accuracy", True)):
            tuned, _ = best_threshold([scores[i] for i in cnn], [labels[i] for i in cnn], balanced=balanced)
            x_scores, x_labels = [scores[i] for i in xsum], [labels[i] for i in xsum]
            measure = balanced_accuracy_at if balanced else accuracy_at
            held_out[f"best_{name}_threshold_on_cnndm"] = tuned
            held_out[f"xsum_{name}_at_it"] = round(measure(x_scores, x_labels, tuned), 4)
        by["held_out"] = held_out
    return by


def score_all(
    verifier: Verifier, items: Sequence[Judgement], progress: Progress | None = None, label: str = ""
) -> list[float]:
    task = progress.add_task(label, total=len(items)) if progress is not None else None
    scores: list[float] = []
    for item in items:
        scores.append(verifier.score(item.sentence, item.article))
        if progress is not None and task is not None:
            progress.advance(task)
    return scores


def run_support_eval(
    data_dir: Path,
    out: Path,
    *,
    min_support: float,
    embedder: Embedder | None = None,
    variants: Sequence[str] = ("minilm", "none"),
    limit: int | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Score every judged sentence with each variant; write ``out/summary.json`` and ``out/results.jsonl``."""
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    items = load_judgements(data_dir)
    if limit:
        items = [item for dataset in DATASETS for item in [i for i in items if i.dataset == dataset][:limit]]
    scores: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    with Progress(console=console, transient=True) as progress:
        for variant in variants:
            if variant == "minilm":
                if embedder is None:
                    from rag.retrieval.embedders import MiniLMEmbedder

                    embedder = MiniLMEmbedder()
                used: Embedder | None = CachedEmbedder(embedder)
            elif variant == "none":
                used = None
            else:
                raise ValueError(f"unknown variant {variant!r} (minilm | none)")
            started = time.perf_counter()
            scores[variant] = score_all(Verifier(used, min_support), items, progress, f"scoring ({variant})")
            seconds[variant] = round(time.perf_counter() - started, 2)
    with (out / "results.jsonl").open("w", encoding="utf-8") as results:
        for n, item in enumerate(items):
            row = {
                "dataset": item.dataset,
                "summary": item.summary,
                "index": item.index,
                "sentence": item.sentence,
                "yes_votes": item.yes_votes,
                "votes": item.votes,
                "supported": item.supported,
                **{f"score_{v}": round(scores[v][n], 4) for v in variants},
            }
            results.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary: dict[str, Any] = {
        "suite": "support",
        "data": "QAGS mturk_cnndm.jsonl + mturk_xsum.jsonl (majority of 3 annotators)",
        "min_support": min_support,
        "sentences": len(items),
        "variants": {
            variant: {**summarise(items, scores[variant], min_support), "seconds": seconds[variant]}
            for variant in variants
        },
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
