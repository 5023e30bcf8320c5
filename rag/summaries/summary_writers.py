"""How summary sentences are proposed: extractive centrality, model map-reduce, and event dates.

Nothing here decides what is shown: every proposed sentence goes through ``Verifier.check``
(rag/summaries/summarize.py).

- Extractive: an article's sentences scored by embedding similarity to the article's centroid (what the article is
  mostly about) blended with lead position (news puts the key facts first), verbatim, each citing its own chunk.
- Model: the summary prompt over an article's chunks; an article whose chunks do not fit ``local_ctx`` is summarised
  in groups that fit (map), and the verified partial sentences are summarised again (reduce), citing the chunks
  their parts cited.
- Dates: explicit dates in a sentence ("Monday, October 5", "2026-10-05", "yesterday") resolved against the
  article's publication date; a sentence without one is dated by its publication.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from rag.answering.compose import INSTRUCTION, MIN_SENTENCE_WORDS
from rag.llm.llms import ModelWriter, WriterUnavailable
from rag.retrieval.embedders import Embedder
from rag.retrieval.query import DMY_DATE, ISO_DATE, MDY_DATE, MONTHS, WEEKDAYS
from rag.text import Span, content_terms, is_headline_like, line_around, split_sentences
from rag.tokens import count_tokens
from rag.types import Article, Chunk, DraftSentence, Passage

# Blend of lead position into the centrality score (0: centroid similarity only). ROUGE-L F1 against the writers'
# summaries of the first 40 CNN/DM articles (`newsdesk eval summaries`, MiniLM), 3 sentences / 2 sentences:
# 0.0: 0.183 / 0.182; 0.3: 0.209 / 0.221; 0.5: 0.220 / 0.224; 0.7: 0.225 / 0.227; 0.9: 0.225 / 0.229. News puts the
# key facts first; 0.7 keeps centrality a say for articles that do not (digests, features).
LEAD_WEIGHT = 0.7
DUPLICATE_JACCARD = 0.6  # content-term overlap above which a sentence repeats one already chosen
NOTICE = re.compile(r"^\[[^\]]*\]$")  # a bracketed editor's note on its own line ("[Fictional sample ...]")
PROMPT_MARGIN_TOKENS = 64  # chat-template wrapping and tokenizer differences between tiktoken and the model
MAX_REDUCE_ROUNDS = 4

Verify = Callable[[Sequence[DraftSentence], Sequence[Passage]], list[DraftSentence]]


@dataclass(frozen=True)
class Candidate:
    """A sentence of an article that may go into a summary."""

    article_id: str
    passage: int  # 1-based index into the summary's passage list (the chunk that holds the sentence)
    span: Span  # offsets in the article body
    position: int  # order among the article's candidates
    score: float = 0.0  # centrality + lead, higher is more summary-worthy

    @property
    def terms(self) -> set[str]:
        return set(content_terms(self.span.text))


def article_passages(article: Article, chunks: Sequence[Chunk], copies: list[str]) -> list[Passage]:
    return [
        Passage(
            chunk=chunk,
            title=article.title,
            source=article.source,
            url=article.url,
            published_at=article.published_at,
            copies=copies,
        )
        for chunk in chunks
    ]


def ranked_candidates(
    article: Article, passages: Sequence[Passage], first: int, embedder: Embedder | None
) -> list[Candidate]:
    """The article's sentences, most summary-worthy first; ``first`` is the 1-based index of its first passage."""
    found: list[Candidate] = []
    for span in split_sentences(article.body):
        if (
            len(span.text.split()) < MIN_SENTENCE_WORDS
            or NOTICE.match(span.text)
            or INSTRUCTION.search(span.text)
            or is_headline_like(span.text, article.title, line_around(article.body, span.start, span.end))
        ):
            continue  # a headline repeated in the body leads it, but states nothing a summary should say
        # The first chunk that holds the whole sentence; a sentence cut by a chunk boundary cannot be cited whole.
        holder = next(
            (i for i, p in enumerate(passages) if p.chunk.start <= span.start and span.end <= p.chunk.end),
            None,
        )
        if holder is not None:
            found.append(Candidate(article.id, first + holder, span, len(found)))
    if not found:
        return []
    lead = 1.0 - np.arange(len(found)) / len(found)
    centrality = np.zeros(len(found))
    if embedder is not None:
        vectors = embedder.embed([c.span.text for c in found])
        centroid = vectors.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        centrality = np.clip(vectors @ centroid, 0.0, 1.0)
    scores = (1.0 - LEAD_WEIGHT) * centrality + LEAD_WEIGHT * lead
    scored = [
        Candidate(c.article_id, c.passage, c.span, c.position, float(s))
        for c, s in zip(found, scores, strict=True)
    ]
    return sorted(scored, key=lambda c: (-c.score, c.position))


def drop_headlines(draft: Sequence[DraftSentence], passages: Sequence[Passage]) -> list[DraftSentence]:
    """A model's sentences less those that only restate a headline (the title of an article they cite, or a
    title-case line): a headline is not a summary sentence, whoever writes it."""
    kept = []
    for sentence in draft:
        titles = {passages[n - 1].title for n in sentence.passages if 1 <= n <= len(passages)} or {""}
        if not any(is_headline_like(sentence.text, title) for title in titles):
            kept.append(sentence)
    return kept


def repeats(candidate: Candidate, chosen: Sequence[Candidate]) -> bool:
    terms = candidate.terms
    for other in chosen:
        union = terms | other.terms
        if union and len(terms & other.terms) / len(union) > DUPLICATE_JACCARD:
            return True
    return False


def pick(ranked: Sequence[Candidate], limit: int, chosen: Sequence[Candidate] = ()) -> list[Candidate]:
    """The best ``limit`` candidates that do not repeat each other (or ``chosen``)."""
    picked: list[Candidate] = []
    for candidate in ranked:
        if len(picked) == limit:
            break
        if not repeats(candidate, [*chosen, *picked]):
            picked.append(candidate)
    return picked


class ModelSummarizer:
    """The summary prompt through a model writer, map-reduced so that no prompt overflows ``context_tokens``."""

    def __init__(self, writer: ModelWriter, context_tokens: int, verify: Verify) -> None:
        self.writer = writer
        self.verify = verify
        prompt = writer.prompt
        fixed = count_tokens(prompt.system) + count_tokens(prompt.user.format(passages="", question=""))
        self.budget = context_tokens - fixed - writer.max_tokens - PROMPT_MARGIN_TOKENS

    def _cost(self, passage: Passage, task: str) -> int:
        return count_tokens(passage.chunk.text) + count_tokens(task) + 24  # the <passage ...> wrapper

    def groups(self, passages: Sequence[Passage], task: str) -> list[list[int]]:
        """Consecutive 0-based passage indexes packed greedily into prompts that fit the budget."""
        packed: list[list[int]] = [[]]
        used = 0
        for i, passage in enumerate(passages):
            cost = self._cost(passage, task)
            if cost > self.budget:
                raise WriterUnavailable(
                    f"the model context ({self.budget} tokens left for passages) cannot hold one chunk "
                    f"({cost} tokens): raise NEWSDESK_LOCAL_CTX or lower NEWSDESK_CHUNK_TOKENS"
                )
            if packed[-1] and used + cost > self.budget:
                packed.append([])
                used = 0
            packed[-1].append(i)
            used += cost
        return [g for g in packed if g]

    def summarise(self, task: str, passages: Sequence[Passage]) -> list[DraftSentence]:
        """Map: each group of passages that fits; reduce: the verified partial sentences, until one prompt fits."""
        groups = self.groups(passages, task)
        if len(groups) == 1:
            return self.writer.write(task, passages).sentences
        partial: list[DraftSentence] = []
        for group in groups:
            part = [passages[i] for i in group]
            drafted = self.writer.write(task, part).sentences
            for sentence in self.verify(drafted, part):
                partial.append(
                    DraftSentence(text=sentence.text, passages=[group[n - 1] + 1 for n in sentence.passages])
                )
        return self.reduce(task, partial, passages)

    def reduce(
        self, task: str, items: Sequence[DraftSentence], passages: Sequence[Passage]
    ) -> list[DraftSentence]:
        """Summarise ``items`` (sentences citing ``passages``); the result cites the passages its items cited."""
        for _ in range(MAX_REDUCE_ROUNDS):
            if not items:
                return []
            notes = [_note(item, passages) for item in items]
            groups = self.groups(notes, task)
            merged: list[DraftSentence] = []
            for group in groups:
                drafted = self.writer.write(task, [notes[i] for i in group]).sentences
                for sentence in drafted:
                    cited = sorted(
                        {
                            p
                            for n in sentence.passages
                            if 1 <= n <= len(group)
                            for p in items[group[n - 1]].passages
                        }
                    )
                    merged.append(DraftSentence(text=sentence.text, passages=cited))
            if len(groups) == 1:
                return merged
            items = [DraftSentence(text=s.text, passages=s.passages) for s in self.verify(merged, passages)]
        return list(items)


def _note(item: DraftSentence, passages: Sequence[Passage]) -> Passage:
    """A partial summary sentence shown to the model as a numbered passage of its own."""
    source = passages[item.passages[0] - 1] if item.passages else passages[0]
    chunk = Chunk(
        id="partial", article_id=source.chunk.article_id, index=0, text=item.text, start=0, end=len(item.text)
    )
    return source.model_copy(update={"chunk": chunk})


_WEEKDAY = re.compile(
    r"(?<!every )\b(?:(last|next|this)\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I
)
_RELATIVE = {"yesterday": -1, "today": 0, "tomorrow": 1}
_FUTURE = re.compile(
    r"\b(will|would|is to|are to|set to|scheduled|planned|plans|expected to|beginning|starting)\b", re.I
)


def stated_date(text: str, published: datetime | None) -> datetime | None:
    """The day (midnight UTC) a sentence says its event happened, when it says so plainly, resolved against the
    publication date; None when it states no date."""
    calendar: list[tuple[int, datetime]] = []
    for pattern, order in ((ISO_DATE, "ymd"), (MDY_DATE, "mdy"), (DMY_DATE, "dmy")):
        for m in pattern.finditer(text):
            parts = dict(zip(order, m.groups(), strict=True))
            month = int(parts["m"]) if parts["m"].isdigit() else MONTHS[parts["m"].lower()[:3]]
            day = _nearest_year(month, int(parts["d"]), parts["y"], published)
            if day is not None:
                calendar.append((m.start(), day))
    if calendar:  # a calendar date beats a weekday ("every Monday since September 14")
        return min(calendar, key=lambda pair: pair[0])[1]
    found: list[tuple[int, datetime]] = []
    if published is not None:
        base = day_of(published)
        for word, offset in _RELATIVE.items():
            if said := re.search(rf"\b{word}\b", text, re.I):
                found.append((said.start(), base + timedelta(days=offset)))
        future = bool(_FUTURE.search(text))
        found += [
            (w.start(), _weekday(w.group(1), w.group(2), base, future)) for w in _WEEKDAY.finditer(text)
        ]
    return min(found, key=lambda pair: pair[0])[1] if found else None


def day_of(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _nearest_year(month: int, day: int, year: str | None, published: datetime | None) -> datetime | None:
    # Without a year, the date nearest the publication ("January 3" in a late-December article is next year).
    base = day_of(published) if published is not None else None
    years = [int(year)] if year else ([base.year - 1, base.year, base.year + 1] if base else [])
    dates = []
    for y in years:
        try:
            dates.append(datetime(y, month, day, tzinfo=UTC))
        except ValueError:
            continue
    if not dates:
        return None
    return min(dates, key=lambda d: abs(d - base)) if base is not None else dates[0]


def _weekday(qualifier: str | None, name: str, base: datetime, future: bool) -> datetime:
    # "last Monday" is before publication, "next Monday" after; a bare "Monday" is ahead in a sentence about what
    # will happen ("the walkout begins Monday") and behind otherwise ("voted on Monday").
    target = WEEKDAYS[name.lower()]
    qualifier = (qualifier or "").lower()
    if qualifier == "next":
        return base + timedelta(days=(target - base.weekday()) % 7 or 7)
    if qualifier != "last" and future:
        return base + timedelta(days=(target - base.weekday()) % 7)
    return base - timedelta(days=(base.weekday() - target) % 7)
