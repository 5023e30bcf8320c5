"""Which articles an extractive answer cites.

A question that names outlets asks about particular reports ("the TechCrunch article on software companies ... and
the Hacker News article on The Epoch Times"). Each naming of an outlet gets one article of that outlet: the one whose
sentences and title best match the *clause* around that naming (the text between the neighbouring namings), not the
whole question, so one report's description does not pick the article for another. A question that names no outlet
cites its best articles overall.

Measured on MultiHop-RAG dev (extractive writer, the same retrieval; weights tuned on half A, half B held out):
citation precision 0.804 -> 0.820 on A, 0.820 -> 0.846 on B (whole question -> clause, title overlap and the
second-best sentence). Choosing perfectly among the 8 retrieved passages would give 0.90: the gold report is often
not retrieved at all (docs/DESIGN-NOTES.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rag.retrieval.query import source_pattern
from rag.text import content_terms
from rag.types import Passage

DATE_MATCH_BONUS = 0.3
TITLE_WEIGHT = 0.3  # times the share of the clause's terms found in the article's title
SECOND_SENTENCE_WEIGHT = 0.3  # an article with two matching sentences is more likely the one described


@dataclass(frozen=True)
class Mention:
    """One naming of an outlet in a question, with the clause that describes the report it means."""

    outlet: str
    clause: str


def outlet_mentions(question: str, passages: Sequence[Passage]) -> list[Mention]:
    """Each naming of an outlet the passages come from ("The Verge" or "Verge"), in question order."""
    pattern = source_pattern({p.source for p in passages})
    if pattern is None:
        return []
    lookup = {
        variant.lower(): p.source
        for p in passages
        for variant in (p.source, re.sub(r"^the\s+", "", p.source, flags=re.I))
    }
    matches = list(pattern.finditer(question))
    mentions = []
    for i, match in enumerate(matches):
        # The report's description may come before the naming ("..., according to Fortune") or after it ("the
        # TechCrunch article on ..."): the clause is everything between the neighbouring namings.
        before = question[matches[i - 1].end() if i else 0 : match.start()]
        after = question[match.end() : matches[i + 1].start() if i + 1 < len(matches) else len(question)]
        mentions.append(Mention(lookup[match.group(1).lower()], f"{before} {after}".strip()))
    return mentions


def mention_counts(question: str, passages: Sequence[Passage]) -> Counter[str]:
    """How often the question names each outlet."""
    return Counter(m.outlet for m in outlet_mentions(question, passages))


SentenceScorer = Callable[[str, Sequence[int]], Iterable[float]]
"""(text, candidate sentence indices) -> the relevance of each of those sentences to the text."""


def choose_articles(
    question: str,
    passages: Sequence[Passage],
    passage_of: Mapping[str, Passage],
    sentences_of: Mapping[str, Sequence[int]],
    best: Mapping[str, float],
    score_sentences: SentenceScorer,
    default_count: int,
) -> list[str]:
    """The articles to cite, from those with a relevant sentence (``best``: their best sentence's relevance to the
    whole question; ``sentences_of``: their relevant sentences). Outlets are recognised among all ``passages``."""
    ranked = sorted(best, key=lambda a: -(best[a] + date_bonus(question, passage_of[a])))
    mentions = outlet_mentions(question, passages)
    chosen: list[str] = []
    for mention in mentions:
        pool = [a for a in ranked if passage_of[a].source == mention.outlet and a not in chosen]
        if not pool:
            continue
        # A naming with no description around it ("What did TechCrunch say?") is described by the whole question.
        clause = mention.clause if content_terms(mention.clause) else question
        clause_terms = set(content_terms(clause))
        indices = [i for a in pool for i in sentences_of[a]]
        relevance = dict(zip(indices, score_sentences(clause, indices), strict=True))
        fits = {
            a: _fit(
                sorted((relevance[i] for i in sentences_of[a]), reverse=True),
                set(content_terms(passage_of[a].title)),
                clause_terms,
            )
            + date_bonus(question, passage_of[a])
            for a in pool
        }
        chosen.append(max(pool, key=fits.__getitem__))  # ties keep the whole-question order
    return chosen or ranked[:default_count]


def _fit(sentence_scores: list[float], title_terms: set[str], clause_terms: set[str]) -> float:
    """How well an article matches a clause: its best sentence, its second best, and the clause's terms in its title."""
    first, second = [*sentence_scores, 0.0, 0.0][:2]
    title_share = len(title_terms & clause_terms) / len(clause_terms)
    return first + SECOND_SENTENCE_WEIGHT * second + TITLE_WEIGHT * title_share


def date_bonus(question: str, passage: Passage) -> float:
    """A question that names the article's publication day ("the report published on October 13") means it."""
    published = passage.published_at
    if published is None:
        return 0.0
    named = re.search(
        rf"\b{published:%B}\s+0?{published.day}\b|\b{published.day}\s+{published:%B}\b", question
    )
    return DATE_MATCH_BONUS if named else 0.0
