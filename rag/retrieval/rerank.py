"""Second retrieval stage: re-order the top fused candidates by their best sentence's lexical evidence.

BM25 and the embedding score a whole ~200-token chunk, so a chunk that merely shares a story's vocabulary ranks
level with the neighbouring chunk whose sentence states what was asked. This stage looks inside each of the top
candidates: its best window of adjacent sentences scores the IDF-weighted share of the question's terms it holds
plus the share of the question's adjacent term pairs (phrases: "interest rates", "Rookie of the Year") found
adjacent in it. The candidates are then re-ordered by a weighted reciprocal-rank fusion of the first-stage order
and this score's order. Lexical only: no model, no extra embedding, about a millisecond for 30 candidates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise

import Stemmer

from rag.text import STOPWORDS, split_sentences

_STEMMER = Stemmer.Stemmer("english")

# Words that frame a news question rather than name what it is about ("according to the article by ...").
FRAME_WORDS = frozenset(
    [
        "according",
        "article",
        "articles",
        "report",
        "reported",
        "reports",
        "reporting",
        "published",
        "mentioned",
        "news",
        "story",
        "stories",
        "suggest",
        "suggests",
        "indicate",
        "indicated",
        "indicates",
        "say",
        "says",
        "said",
    ]
)


@dataclass(frozen=True)
class RerankConfig:
    # Defaults chosen on one half of the MultiHop-RAG dev split, checked on the other (docs/DESIGN-NOTES.md).
    depth: int = 30  # candidates re-ordered; 0 turns the stage off
    weight: float = 1.0  # fusion weight of the evidence order against the first-stage order (weight 1)
    window: int = 3  # adjacent sentences scored together: a fact often spans two or three
    phrase_share: float = 0.5  # share of the score given to adjacent term pairs (the rest: term coverage)
    rrf_k: int = 10


_WORD = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")


def _terms(text: str) -> list[str]:
    """Stemmed non-stopwords of ``text`` in order. Speed matters here (every sentence of 30 chunks per question):
    one regex pass and one batched stemmer call, no per-word Python calls."""
    found = [w for w in _WORD.findall(text.lower().replace("’", "'")) if w not in STOPWORDS]
    return list(_STEMMER.stemWords(found))


def question_terms(question: str) -> list[str]:
    """Stemmed content terms of the question, in order (adjacency matters for phrases), frame words dropped."""
    kept = [w for w in _WORD.findall(question.lower().replace("’", "'")) if w not in FRAME_WORDS]
    return _terms(" ".join(w for w in kept if len(w) > 1 or w.isdigit()))


@lru_cache(maxsize=16384)
def _sentence_terms(text: str) -> tuple[tuple[str, ...], ...]:
    """The terms of each sentence of a chunk. Cached by text: the same chunks come back for every question on a
    story, and tokenising is most of this stage's cost (~0.1 ms a chunk). The abbreviation-aware splitter matters:
    a plain split at ". " breaks "the U.S. Securities and Exchange Commission" (dev MRR@10 0.691 vs 0.710)."""
    # PyStemmer returns its cached string for a repeated word, so the cached tuples share their strings.
    sentences = (tuple(_terms(s.text)) for s in split_sentences(text))
    return tuple(terms for terms in sentences if terms)


@lru_cache(maxsize=16384)
def _windows(text: str, window: int) -> tuple[tuple[frozenset[str], frozenset[tuple[str, str]]], ...]:
    """Per run of ``window`` adjacent sentences: its terms and its adjacent term pairs, as sets (cached with the
    sentence terms, so a chunk seen again costs only the set intersections)."""
    sentences = _sentence_terms(text)
    runs = (
        list(chain.from_iterable(sentences[i : i + window]))
        for i in range(max(1, len(sentences) - window + 1))
    )
    return tuple((frozenset(run), frozenset(pairwise(run))) for run in runs)


def evidence_score(
    terms: Sequence[str], weights: Mapping[str, float], text: str, window: int, phrase_share: float
) -> float:
    """Best window's IDF-weighted term coverage blended with its share of the question's adjacent term pairs."""
    unique = set(terms)
    total = sum(weights.get(t, 0.0) for t in unique)
    pairs = {(a, b) for a, b in pairwise(terms) if a != b}
    if total <= 0:
        return 0.0
    best = 0.0
    for run_terms, run_pairs in _windows(text, window):
        present = unique.intersection(run_terms)
        if not present:
            continue
        coverage = sum(weights.get(t, 0.0) for t in present) / total
        phrases = len(pairs.intersection(run_pairs)) / len(pairs) if pairs else 0.0
        best = max(best, (1 - phrase_share) * coverage + phrase_share * phrases)
    return best


def idf_weights(
    terms: Sequence[str], document_frequency: Callable[[str], int], documents: int
) -> dict[str, float]:
    """BM25's IDF per term over the whole index; a term no document holds gets no weight (nothing can match)."""
    weights: dict[str, float] = {}
    for term in set(terms):
        df = document_frequency(term)
        if df > 0:
            weights[term] = math.log(1 + (documents - df + 0.5) / (df + 0.5))
    return weights


def rerank(
    ranked: list[tuple[str, float]],
    texts: Mapping[str, str],
    terms: Sequence[str],
    weights: Mapping[str, float],
    config: RerankConfig,
) -> list[tuple[str, float]]:
    """Re-order the top ``config.depth`` of ``ranked`` (id, score) by fusing their order with their evidence
    score's order; the tail keeps its order below them. Scores returned are the fused ones."""
    head = [item for item in ranked[: config.depth] if item[0] in texts]
    if config.depth <= 0 or len(head) < 2 or not weights:
        return ranked
    evidence = {
        chunk_id: evidence_score(terms, weights, texts[chunk_id], config.window, config.phrase_share)
        for chunk_id, _ in head
    }
    by_evidence = sorted(evidence, key=lambda chunk_id: -evidence[chunk_id])
    lexical_rank = {chunk_id: rank for rank, chunk_id in enumerate(by_evidence, start=1)}
    fused = {
        chunk_id: 1.0 / (config.rrf_k + rank) + config.weight / (config.rrf_k + lexical_rank[chunk_id])
        for rank, (chunk_id, _) in enumerate(head, start=1)
    }
    reordered = sorted(fused.items(), key=lambda pair: -pair[1])
    floor = min(score for _, score in reordered)
    head_ids = set(fused)
    tail = [(chunk_id, min(score, floor)) for chunk_id, score in ranked if chunk_id not in head_ids]
    return reordered + tail
