"""The verifier: every sentence a writer proposes is scored against the passages it cites.

Support is an entailment proxy, calibrated on human judgements (QAGS, `newsdesk eval support`):

- **bigram coverage**: the share of the sentence's adjacent content-term pairs that occur, adjacent, in one sentence
  of the evidence. Words that are all in the passage but recombined ("City beat QPR" from "QPR beat Chelsea ... City
  lost") fail here, which plain term coverage misses;
- **best-sentence coverage**: the IDF-weighted share of the sentence's content terms found in its best-matching
  evidence sentence (IDF over the evidence's sentences, so rare words weigh more than ones repeated everywhere);
- **embedding similarity** (when an embedder is given): the best cosine between the sentence and the evidence
  sentences that match it best lexically.

``lexical = 2/3 bigram + 1/3 best-sentence coverage``; ``support = 0.7 lexical + 0.3 cosine`` with an embedder. Then
numbers in the sentence must appear in the evidence exactly (else the score is capped), names (capitalised words)
must appear too (else it is scaled down), and a negated sentence matched to a sentence that is not negated is capped
like a wrong number. A verbatim evidence sentence scores 1.0.

Citations to passages that do not exist are removed; an uncited sentence is given the best supporting passage if one
supports it. See ``docs/DESIGN-NOTES.md`` for the measurements behind the weights and ``min_support``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from rag.retrieval.embedders import Embedder
from rag.text import Span, content_terms, names, numbers, split_sentences, words
from rag.types import DraftSentence, Passage

NUMBER_MISMATCH_CAP = 0.3
MIN_CLAIM_TERMS = 3
# Blend weights, calibrated on QAGS CNN/DM (XSum held out); see docs/DESIGN-NOTES.md.
BIGRAM_WEIGHT = 2 / 3  # of the lexical score; the rest is best-sentence IDF-weighted coverage
EMBEDDING_WEIGHT = 0.3  # of the final score when an embedder is given; the rest is the lexical score
EMBED_CANDIDATES = 2  # evidence sentences (best lexical matches) compared by embedding (1, 3, 5: same AUC)
NAME_PENALTY = 0.5  # score *= 1 - NAME_PENALTY * share of the sentence's names missing from the evidence
NEGATION_MISMATCH_CAP = 0.3  # cap when the sentence is negated and its best evidence sentence is not
NEGATIONS = frozenset(
    ["not", "no", "never", "nobody", "none", "nothing", "neither", "nor", "cannot", "without"]
)


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


def _negated(text: str) -> bool:
    return any(w in NEGATIONS or w.endswith("n't") for w in words(text))


@dataclass
class _Analysed:
    """An evidence text split into sentences with their terms, analysed once per passage."""

    text: str
    spans: Sequence[Span]
    terms: list[set[str]] = field(init=False)
    bigrams: set[tuple[str, str]] = field(init=False)
    document_frequency: Counter[str] = field(init=False)
    numbers: set[str] = field(init=False)
    words: set[str] = field(init=False)

    def __post_init__(self) -> None:
        sequences = [content_terms(span.text) for span in self.spans]
        self.terms = [set(seq) for seq in sequences]
        self.bigrams = {pair for seq in sequences for pair in pairwise(seq)}
        self.document_frequency = Counter(t for terms in self.terms for t in terms)
        self.numbers = numbers(self.text)
        self.words = set(words(self.text))


class Verifier:
    def __init__(self, embedder: Embedder | None = None, min_support: float = 0.6) -> None:
        self.embedder = embedder
        self.min_support = min_support

    def score(self, sentence: str, evidence_text: str) -> float:
        """Support of ``sentence`` by ``evidence_text`` in [0, 1] (used for calibration on human labels too)."""
        return self._score(sentence, _Analysed(evidence_text, split_sentences(evidence_text)), {})[0]

    def _embed(self, texts: Sequence[str], cache: dict[str, np.ndarray]) -> np.ndarray:
        """Embeddings of ``texts``, memoised in ``cache`` (one per ``check`` call: a sentence meets many passages)."""
        assert self.embedder is not None
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.stack([cache[t] for t in texts])

    def _score(
        self, sentence: str, evidence: _Analysed, cache: dict[str, np.ndarray]
    ) -> tuple[float, Span | None]:
        sequence = content_terms(sentence)
        terms = set(sequence)
        # A sentence with fewer content words than this makes no checkable claim ("The answer is:"): unsupported.
        if len(terms) < MIN_CLAIM_TERMS or not evidence.spans:
            return 0.0, None
        n = len(evidence.spans)
        idf = {t: math.log((n + 1) / (evidence.document_frequency[t] + 0.5)) for t in terms}
        total = sum(idf.values())
        coverage = [sum(idf[t] for t in terms & span_terms) / total for span_terms in evidence.terms]
        ranked = sorted(range(n), key=lambda i: -coverage[i])  # stable: ties keep document order
        best = ranked[0]
        pairs = set(pairwise(sequence))
        bigram = len(pairs & evidence.bigrams) / len(pairs)
        score = BIGRAM_WEIGHT * bigram + (1 - BIGRAM_WEIGHT) * coverage[best]
        if self.embedder is not None:
            candidates = [evidence.spans[i].text for i in ranked[:EMBED_CANDIDATES]]
            vectors = self._embed([sentence, *candidates], cache)
            cosine = float(np.clip(vectors[1:] @ vectors[0], 0.0, 1.0).max())
            score = (1 - EMBEDDING_WEIGHT) * score + EMBEDDING_WEIGHT * cosine
        if not numbers(sentence) <= evidence.numbers:
            score = min(score, NUMBER_MISMATCH_CAP)
        sentence_names = names(sentence)
        if sentence_names:
            missing = len(sentence_names - evidence.words) / len(sentence_names)
            score *= 1.0 - NAME_PENALTY * missing
        if _negated(sentence) and not _negated(evidence.spans[best].text):
            score = min(score, NEGATION_MISMATCH_CAP)  # "were not evacuated" against "were evacuated"
        return round(float(np.clip(score, 0.0, 1.0)), 6), evidence.spans[best]

    def check(self, draft: Sequence[DraftSentence], passages: Sequence[Passage]) -> list[CheckedSentence]:
        analysed = [
            _Analysed(p.chunk.text, split_sentences(p.chunk.text, base=p.chunk.start)) for p in passages
        ]
        cache: dict[str, np.ndarray] = {}
        checked: list[CheckedSentence] = []
        for sentence in draft:
            cited = sorted({n for n in sentence.passages if 1 <= n <= len(passages)})
            if not cited:
                cited = self._best_passage(sentence.text, analysed, cache)
            evidence: list[Evidence] = []
            best_support = 0.0
            for n in cited:
                support, span = self._score(sentence.text, analysed[n - 1], cache)
                if span is not None and support >= self.min_support:
                    evidence.append(Evidence(n, span))
                best_support = max(best_support, support)
            checked.append(CheckedSentence(sentence.text, evidence, round(best_support, 4), bool(evidence)))
        return checked

    def _best_passage(
        self, text: str, analysed: Sequence[_Analysed], cache: dict[str, np.ndarray]
    ) -> list[int]:
        scored = [(self._score(text, evidence, cache)[0], n) for n, evidence in enumerate(analysed, 1)]
        best = max(scored, default=(0.0, 0))
        return [best[1]] if best[0] >= self.min_support else []
