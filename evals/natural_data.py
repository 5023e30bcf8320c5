"""The natural question sets and the stores they are asked over: loading, dev halves, slices, small-store articles.

Dev halves: within each question type, the questions sorted by id alternate A, B, A, … (so both halves hold the same
mix of types); calibrate on one half and report the other.

Small stores (one per question): an answerable question's gold article(s) plus 4 other articles drawn with
``random.Random(f"{seed}:{id}")`` from a pool (the whole corpus by default) without its gold articles. An
unanswerable question gets the 5 articles that match it best lexically (BM25 over title and body with the keyword
index's own tokenizer and stemmer), so the store is about the question's topic and abstaining is not trivially easy.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rag.storage.keyword import tokenize

QuestionType = Literal["factoid", "why", "yesno", "outlet", "multi", "dated", "unanswerable"]
Half = Literal["A", "B"]
SMALL_STORE_ARTICLES = 5  # an unanswerable question's store: its best topic matches
OTHER_ARTICLES = 4  # beside an answerable question's gold article(s)


class Evidence(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: str = ""
    quote: str = ""


class NaturalQuestion(BaseModel):
    """One question of ``natural/questions.json`` (or of our seed set, whose evidence is the one seed article)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    type: QuestionType
    question: str = Field(min_length=1)
    as_of: date | None = None
    answerable: bool
    answer: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def gold_urls(self) -> list[str]:
        return sorted({e.url for e in self.evidence if e.url})

    @property
    def asked_at(self) -> datetime | None:
        """``as_of`` is the day the reader asks; asking at the end of that day keeps that day's articles in."""
        return datetime.combine(self.as_of, time(23, 59, 59), tzinfo=UTC) if self.as_of else None


def load_questions(path: Path) -> list[NaturalQuestion]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read questions: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path}: expected a non-empty JSON list of questions")
    questions = []
    for index, item in enumerate(items):
        try:
            questions.append(NaturalQuestion.model_validate(item))
        except ValidationError as exc:
            error = exc.errors()[0]
            raise ValueError(
                f"{path}: question {index}: {'.'.join(map(str, error['loc']))}: {error['msg']}"
            ) from exc
    if len({q.id for q in questions}) != len(questions):
        raise ValueError(f"{path}: question ids are not unique")
    return questions


def dev_halves(questions: list[NaturalQuestion]) -> dict[str, Half]:
    """The committed split rule: within each type, ids in sorted order alternate A, B."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for question in questions:
        by_type[question.type].append(question.id)
    return {
        qid: ("A" if i % 2 == 0 else "B") for ids in by_type.values() for i, qid in enumerate(sorted(ids))
    }


def stratified_slice(questions: list[NaturalQuestion], n: int) -> list[NaturalQuestion]:
    """``n`` questions, each type in proportion to its size (largest remainders, at least one each), taken evenly
    spaced through the type's ids in sorted order: a fixed slice with no random draw."""
    if n >= len(questions):
        return list(questions)
    by_type: dict[str, list[NaturalQuestion]] = defaultdict(list)
    for question in sorted(questions, key=lambda q: q.id):
        by_type[question.type].append(question)
    exact = {t: n * len(items) / len(questions) for t, items in by_type.items()}
    counts = {t: max(1, math.floor(share)) for t, share in exact.items()}
    for kind in sorted(exact, key=lambda t: exact[t] - math.floor(exact[t]), reverse=True):
        if sum(counts.values()) >= n:
            break
        counts[kind] += 1
    chosen: list[NaturalQuestion] = []
    for kind, items in by_type.items():
        step = len(items) / counts[kind]
        chosen.extend(items[int(i * step)] for i in range(min(counts[kind], len(items))))
    return sorted(chosen, key=lambda q: q.id)


class TopicMatcher:
    """BM25 (k1 1.2, b 0.75) over articles' titles (counted twice) and bodies, tokenised like the keyword index."""

    def __init__(self, articles: list[dict[str, Any]]) -> None:
        self.articles = articles
        docs = tokenize([f"{a.get('title', '')} {a.get('title', '')} {a.get('body', '')}" for a in articles])
        self._counts = [Counter(doc) for doc in docs]
        self._lengths = [len(doc) for doc in docs]
        self._average = sum(self._lengths) / max(1, len(docs))
        frequency: Counter[str] = Counter(term for doc in docs for term in set(doc))
        total = len(docs)
        self._idf = {t: math.log(1 + (total - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}

    def top(self, query: str, k: int) -> list[dict[str, Any]]:
        terms = set(tokenize([query])[0])
        scores = []
        for index, counts in enumerate(self._counts):
            norm = 1.2 * (0.25 + 0.75 * self._lengths[index] / self._average)
            value = sum(
                self._idf.get(t, 0.0) * counts[t] * 2.2 / (counts[t] + norm) for t in terms if t in counts
            )
            scores.append((value, index))
        best = sorted(scores, key=lambda pair: (-pair[0], pair[1]))[:k]
        return [self.articles[index] for _, index in best]


def small_store_articles(
    question: NaturalQuestion,
    by_url: dict[str, dict[str, Any]],
    pool: list[dict[str, Any]],
    matcher: TopicMatcher,
    seed: int,
) -> list[dict[str, Any]]:
    """The articles of ``question``'s small store (see the module docstring), in a seeded order."""
    rng = random.Random(f"{seed}:{question.id}")
    chosen: list[dict[str, Any]]
    if not question.answerable:
        chosen = matcher.top(question.question, SMALL_STORE_ARTICLES)
    else:
        gold = [by_url[url] for url in question.gold_urls if url in by_url]
        others = [a for a in pool if a.get("url") not in set(question.gold_urls)]
        chosen = gold + rng.sample(others, min(len(others), OTHER_ARTICLES))
    rng.shuffle(chosen)
    return chosen
