"""The few sentences a small model needs: the passages' sentences most relevant to the question, each kept with its
passage number, rendered as short passages.

A 1.5B model on 2 cores reads ~60 prompt tokens/s, so eight 256-token chunks (~2,000 tokens) cost half a minute
before the first word; eight sentences cost a few seconds. Relevance is lexical — the IDF-weighted share of the
question's content terms a sentence holds (IDF over the candidate sentences, as the extractive writer's scorer) —
with a small bonus for the retriever's passage order, so no sentence needs embedding on the hot path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from rag.text import content_terms, split_sentences
from rag.types import Passage

MIN_WORDS = 3
RANK_BONUS = (
    0.15  # the first passage's sentences get +0.15, the k-th +0.15/k: retrieval order as a tie-breaker
)
NEIGHBOUR_FACTOR = (
    0.5  # the sentence after a strong one often holds the answer ("... said Mayor Ames. She ...")
)


@dataclass(frozen=True)
class Excerpt:
    passage: int  # 1-based index into the passages the writer was given
    start: int  # offsets in that passage's chunk text
    end: int
    text: str
    score: float


def select_sentences(
    question: str, passages: Sequence[Passage], max_sentences: int = 8, max_chars: int = 2400
) -> list[Excerpt]:
    """The most relevant sentences, at most ``max_sentences`` and ``max_chars`` in all, in passage then text order."""
    candidates: list[Excerpt] = []
    terms_of: list[set[str]] = []
    for n, passage in enumerate(passages, start=1):
        for span in split_sentences(passage.chunk.text):
            if len(span.text.split()) < MIN_WORDS:
                continue
            candidates.append(Excerpt(n, span.start, span.end, span.text, 0.0))
            terms_of.append(set(content_terms(span.text)))
    if not candidates:
        return []
    question_terms = set(content_terms(question))
    df = Counter(term for terms in terms_of for term in terms & question_terms)
    weight = {t: math.log(1.0 + len(candidates) / (1.0 + df[t])) for t in question_terms}
    total = sum(weight.values()) or 1.0
    lexical = [sum(weight[t] for t in terms & question_terms) / total for terms in terms_of]
    scores = [
        score + RANK_BONUS / candidate.passage for score, candidate in zip(lexical, candidates, strict=True)
    ]
    # A sentence right after a strong one in the same passage inherits part of its score.
    for i in range(1, len(candidates)):
        if candidates[i].passage == candidates[i - 1].passage:
            scores[i] = max(scores[i], NEIGHBOUR_FACTOR * lexical[i - 1] + RANK_BONUS / candidates[i].passage)
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    chosen: list[int] = []
    used = 0
    seen: set[str] = set()
    for i in order:
        key = " ".join(sorted(terms_of[i]))
        if key in seen:
            continue  # syndicated copies repeat sentences word for word
        if chosen and used + len(candidates[i].text) > max_chars:
            continue
        seen.add(key)
        chosen.append(i)
        used += len(candidates[i].text)
        if len(chosen) == max_sentences:
            break
    chosen.sort(key=lambda i: (candidates[i].passage, candidates[i].start))
    return [
        Excerpt(candidates[i].passage, candidates[i].start, candidates[i].end, candidates[i].text, scores[i])
        for i in chosen
    ]


def render_excerpts(excerpts: Sequence[Excerpt], passages: Sequence[Passage]) -> str:
    """One ``<passage>`` block per passage with a chosen sentence, numbered as the writer's passages are, so the
    model's ``[n]`` needs no translation; sentences that were not adjacent in the chunk are joined by " … "."""
    blocks: list[str] = []
    by_passage: dict[int, list[Excerpt]] = {}
    for excerpt in excerpts:
        by_passage.setdefault(excerpt.passage, []).append(excerpt)
    for n, chosen in by_passage.items():
        passage = passages[n - 1]
        date = passage.published_at.date().isoformat() if passage.published_at else "unknown"
        text = chosen[0].text
        for previous, current in pairwise(chosen):
            gap = passage.chunk.text[previous.end : current.start]
            text += (" " if not gap.strip() else " … ") + current.text
        text = text.replace("</passage>", "</ passage>")
        blocks.append(f'<passage n="{n}" source="{passage.source}" date="{date}">\n{text}\n</passage>')
    return "\n".join(blocks)
