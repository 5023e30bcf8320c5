"""The verifier: every sentence a writer proposes is scored against the passages it cites.

Support is an entailment proxy: the share of the sentence's content terms found in the cited passage, blended with the
embedding similarity of the sentence and its best-matching span when an embedder is given. Numbers in the sentence
must appear in the passage exactly, and names (capitalised words) must appear too, or the score is capped. Citations to
passages that do not exist are removed; an uncited sentence is given the best supporting passage if one supports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.embedders import Embedder
from rag.text import Span, content_terms, names, numbers, split_sentences, words
from rag.types import DraftSentence, Passage

NUMBER_MISMATCH_CAP = 0.3
MIN_CLAIM_TERMS = 3


@dataclass(frozen=True)
class Evidence:
    passage: int  # 1-based index into the passages handed to the writer
    span: Span  # offsets in the article


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    evidence: list[Evidence]
    support: float
    supported: bool


class Verifier:
    def __init__(self, embedder: Embedder | None = None, min_support: float = 0.6) -> None:
        self.embedder = embedder
        self.min_support = min_support

    def score(self, sentence: str, evidence_text: str) -> float:
        """Support of ``sentence`` by ``evidence_text`` in [0, 1] (used for calibration on human labels too)."""
        return self._score(sentence, evidence_text, split_sentences(evidence_text))[0]

    def _score(self, sentence: str, passage_text: str, spans: Sequence[Span]) -> tuple[float, Span | None]:
        terms = set(content_terms(sentence))
        # A sentence with fewer content words than this makes no checkable claim ("The answer is:"): unsupported.
        if len(terms) < MIN_CLAIM_TERMS or not spans:
            return 0.0, None
        passage_terms = set(content_terms(passage_text))
        recall = len(terms & passage_terms) / len(terms)
        best = max(spans, key=lambda s: len(terms & set(content_terms(s.text))))
        score = recall
        if self.embedder is not None:
            vectors = self.embedder.embed([sentence, best.text])
            cosine = float(np.clip(vectors[0] @ vectors[1], 0.0, 1.0))
            score = 0.75 * recall + 0.25 * cosine
        if not numbers(sentence) <= numbers(passage_text):
            score = min(score, NUMBER_MISMATCH_CAP)
        sentence_names = names(sentence)
        if sentence_names:
            passage_words = set(words(passage_text))
            missing = len(sentence_names - passage_words) / len(sentence_names)
            score *= 1.0 - 0.5 * missing
        return float(np.clip(score, 0.0, 1.0)), best

    def check(self, draft: Sequence[DraftSentence], passages: Sequence[Passage]) -> list[CheckedSentence]:
        spans = [split_sentences(p.chunk.text, base=p.chunk.start) for p in passages]
        checked: list[CheckedSentence] = []
        for sentence in draft:
            cited = sorted({n for n in sentence.passages if 1 <= n <= len(passages)})
            if not cited:
                cited = self._best_passage(sentence.text, passages, spans)
            evidence: list[Evidence] = []
            best_support = 0.0
            for n in cited:
                support, span = self._score(sentence.text, passages[n - 1].chunk.text, spans[n - 1])
                if span is not None and support >= self.min_support:
                    evidence.append(Evidence(n, span))
                best_support = max(best_support, support)
            checked.append(CheckedSentence(sentence.text, evidence, round(best_support, 4), bool(evidence)))
        return checked

    def _best_passage(
        self, text: str, passages: Sequence[Passage], spans: Sequence[Sequence[Span]]
    ) -> list[int]:
        scored = [
            (self._score(text, p.chunk.text, s)[0], n)
            for n, (p, s) in enumerate(zip(passages, spans, strict=True), 1)
        ]
        best = max(scored, default=(0.0, 0))
        return [best[1]] if best[0] >= self.min_support else []
