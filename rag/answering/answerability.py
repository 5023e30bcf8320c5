"""Does this evidence answer this question? A judgement per question, not per word.

An extract is always supported by the passage it came from, so support says nothing about whether the question
was answered. What does: the sentence that would answer must carry the question's *discriminating* terms — the
ones that are rare among the retrieved sentences ("tall" in "How tall is Travis Kelce?", when every retrieved
sentence mentions Kelce) — and, for a question that expects a name, number or date, hold a phrase of that type that
is not one of the question's own words.

``coverage``: the IDF-weighted share of the question's content terms found in the sentence (weight 1), in its
neighbouring sentences or its article's title (``NEAR``), or elsewhere in its passage (``PASSAGE``); IDF is taken
over the candidate sentences, so terms every passage shares weigh little. ``answerability = coverage`` for
questions answered by a sentence (why, how, yes/no), and ``coverage × (1 if a typed phrase is there else
UNTYPED)`` for factoid questions.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from rag.text import content_terms

NEAR = 0.6
PASSAGE = 0.3
UNTYPED = 0.6
# Words of a question's frame that an answer sentence need not repeat ("What is the name of ...").
FRAME = frozenset(
    content_terms(
        "name named call called happen happened exactly roughly approximately current response respond responded "
        "react reacted reaction"
    )
)


class TermWeights:
    """IDF of terms over the candidate sentences of one question."""

    def __init__(self, sentence_terms: Sequence[set[str]]) -> None:
        self.count = len(sentence_terms)
        self.df: Counter[str] = Counter(t for terms in sentence_terms for t in terms)

    def idf(self, term: str) -> float:
        return math.log(1.0 + (self.count + 1) / (1.0 + self.df[term]))


def question_terms(question: str, ignore: Iterable[str] = ()) -> set[str]:
    ignored = set(ignore) | FRAME
    return {t for t in content_terms(question) if t not in ignored}


def coverage(
    terms: set[str],
    sentence: set[str],
    near: set[str],
    passage: set[str],
    weights: TermWeights | None,
) -> float:
    """The (IDF-weighted, or with ``weights=None`` plain) share of ``terms`` found in the sentence, near it, or
    in its passage."""
    if not terms:
        return 0.0
    total = found = 0.0
    for term in terms:
        idf = weights.idf(term) if weights is not None else 1.0
        total += idf
        if term in sentence:
            found += idf
        elif term in near:
            found += NEAR * idf
        elif term in passage:
            found += PASSAGE * idf
    return found / total
