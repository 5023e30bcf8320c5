"""Summaries: a brief of one article, a digest of several, a timeline of a story's dated events.

Every sentence passes through the same verifier as answers and is numbered and cited by
``rag.answering.compose.assemble``; what no passage supports is dropped (or flagged), and a summary left with nothing
supported is ``insufficient_evidence``. Articles come from ``article_ids``, a ``topic`` (hybrid retrieval, with
``filters`` and ``as_of``) or ``filters`` alone (the newest articles in the period); syndicated copies of one story
count once.
Timelines are always extractive: a verbatim sentence keeps the date it states.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from rag.answering.compose import assemble
from rag.llm.llms import ModelWriter, Prompt
from rag.pipeline import Services
from rag.summaries.summary_writers import (
    Candidate,
    ModelSummarizer,
    article_passages,
    day_of,
    drop_headlines,
    pick,
    ranked_candidates,
    repeats,
    stated_date,
)
from rag.text import content_terms, split_sentences
from rag.types import Article, DraftSentence, Filters, Passage, Summary, SummaryKind, SummarySentence

NO_SUMMARY = "The available sources do not hold enough supported information for this summary."
DEFAULT_SENTENCES: dict[str, int] = {"brief": 3, "digest": 6, "timeline": 8}
MAX_ARTICLES = 10  # articles in one digest or timeline
TOPIC_PASSAGES = 30  # passages retrieved for a topic; their articles, best first, are the candidates
TOPIC_MATCH = (
    0.5  # share of the topic's content terms an article must contain (retrieval always returns something)
)
TIMELINE_PER_ARTICLE = 3
LEAD_SENTENCES = 3  # a news lead states what the story is about (after any dateline, byline or notice)


class SummaryRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: SummaryKind
    article_ids: list[str] = Field(default_factory=list)
    topic: str | None = None
    filters: Filters | None = None
    as_of: datetime | None = None
    max_sentences: int | None = Field(None, ge=1, le=20)


class UnknownArticle(LookupError):
    def __init__(self, article_id: str) -> None:
        super().__init__(f"no article with id {article_id!r}")
        self.article_id = article_id


def summarize(services: Services, request: SummaryRequest) -> Summary:
    """Raises ``ValueError`` for a request that cannot be served and ``UnknownArticle`` for an id not stored."""
    _check(request)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    articles, topic_weights = _choose_articles(services, request)
    timings["select_ms"] = _ms(started)
    limit = request.max_sentences or DEFAULT_SENTENCES[request.kind]
    story_of, members = services.retriever.story_members()
    model = _model_summarizer(services) if request.kind != "timeline" else None
    passages: list[Passage] = []
    ranked: list[list[Candidate]] = []
    summarised: list[Article] = []
    write_started = time.perf_counter()
    for article in articles:
        copies = [m for m in members.get(story_of.get(article.id, article.id), []) if m != article.id]
        own = article_passages(article, services.registry.chunks_of(article.id), copies)
        if model is None:  # the extractive ranking; a model reads the passages itself
            candidates = ranked_candidates(article, own, len(passages) + 1, services.embedder)
            if (
                topic_weights
                and article.id not in request.article_ids
                and not _leads_with(topic_weights, article)
            ):
                # An article found by topic whose title and lead are about something else (a festival report that
                # mentions the strike) gives only its sentences on the topic to a digest or timeline of it.
                candidates = [c for c in candidates if _share(topic_weights, c.span.text) >= TOPIC_MATCH]
                if not candidates:
                    continue  # nothing on the topic in this article's passages: it is not summarised
            ranked.append(candidates)
        summarised.append(article)
        passages += own
    dates: dict[str, datetime | None] = {}
    if model is not None:
        draft = drop_headlines(_model_draft(model, request.kind, summarised, passages, limit), passages)
    elif request.kind == "timeline":
        draft, dates = _timeline(summarised, ranked, limit)
    else:
        chosen = (
            pick(ranked[0], limit) if request.kind == "brief" else _round_robin(summarised, ranked, limit)
        )
        order = {a.id: i for i, a in enumerate(summarised)}
        chosen.sort(key=lambda c: (order[c.article_id], c.position))
        draft = [DraftSentence(text=c.span.text, passages=[c.passage]) for c in chosen]
    timings["write_ms"] = _ms(write_started)
    verify_started = time.perf_counter()
    checked = services.verifier.check(draft, passages)
    timings["verify_ms"] = _ms(verify_started)
    writer = model.writer if model is not None else None
    answer = assemble(
        request.topic or request.kind,
        checked,
        passages,
        writer=writer.name if writer else "extractive",
        prompt_id=writer.prompt_id if writer else None,
        unsupported=services.settings.unsupported,
        timings=timings,
    )
    sentences = [SummarySentence(**s.model_dump(), date=dates.get(s.text)) for s in answer.sentences]
    if request.kind == "timeline" and sentences:
        text = "\n".join(_timeline_line(s) for s in sentences)
    else:
        text = answer.answer if sentences else NO_SUMMARY
    return Summary(
        kind=request.kind,
        status=answer.status,
        text=text,
        sentences=sentences,
        citations=answer.citations,
        articles=[a.id for a in summarised],
        writer=answer.writer,
        prompt_id=answer.prompt_id,
        timings={**timings, "total_ms": _ms(started)},
    )


def _check(request: SummaryRequest) -> None:
    if request.topic is not None and not request.topic.strip():
        raise ValueError("topic is blank")
    if request.kind == "brief":
        if len(request.article_ids) != 1 or request.topic:
            raise ValueError("a brief summarises exactly one article: give one article id and no topic")
    elif not request.article_ids and not request.topic and (request.filters is None or request.filters.empty):
        raise ValueError(f"a {request.kind} needs article ids, a topic or filters (sources, since, until)")


def _choose_articles(services: Services, request: SummaryRequest) -> tuple[list[Article], dict[str, float]]:
    """The articles to summarise, one per story (the first of its copies met), at most ``MAX_ARTICLES``, and the
    weights of the topic's terms (empty without a topic)."""
    registry = services.registry
    ids = list(dict.fromkeys(request.article_ids))
    found = registry.articles_by_id(ids)
    for article_id in ids:
        if article_id not in found:
            raise UnknownArticle(article_id)
    articles = [found[i] for i in ids]
    filters = request.filters or Filters()
    weights: dict[str, float] = {}
    if request.topic:
        terms = set(content_terms(request.topic))
        hits = services.retriever.search(request.topic, TOPIC_PASSAGES, filters, request.as_of)
        hit_ids = [i for i in dict.fromkeys(p.chunk.article_id for p in hits) if i not in found]
        candidates = [a for i in hit_ids if (a := registry.article(i)) is not None]
        weights = _term_weights(terms, candidates)
        articles += [a for a in candidates if terms and _topic_share(weights, a) >= TOPIC_MATCH]
    elif not ids:
        newest, _ = registry.articles(
            sources=filters.sources, since=filters.since, until=filters.until, limit=MAX_ARTICLES * 2
        )
        articles = newest
    story_of, _ = services.retriever.story_members()
    stories: dict[str, Article] = {}
    for article in articles:
        stories.setdefault(story_of.get(article.id, article.id), article)
    return list(stories.values())[:MAX_ARTICLES], weights


def _term_weights(terms: set[str], candidates: Sequence[Article]) -> dict[str, float]:
    """IDF of each topic term among the candidate articles: a place name every candidate shares ("Port Halden")
    weighs less than the words that pick out the story ("ferry", "strike")."""
    texts = [set(content_terms(f"{a.title} {a.body}")) for a in candidates]
    return {t: math.log(1.0 + len(texts) / (1.0 + sum(t in x for x in texts))) for t in terms}


def _topic_share(weights: dict[str, float], article: Article) -> float:
    """The best title or sentence's IDF-weighted share of the topic's terms."""
    texts = [article.title, *(span.text for span in split_sentences(article.body))]
    return max(_share(weights, text) for text in texts)


def _leads_with(weights: dict[str, float], article: Article) -> bool:
    """Whether the article's title or lead (first sentences) is about the topic: then the whole article is."""
    lead = [span.text for span in split_sentences(article.body)[:LEAD_SENTENCES]]
    return max(_share(weights, text) for text in [article.title, *lead]) >= TOPIC_MATCH


def _share(weights: dict[str, float], text: str) -> float:
    """The IDF-weighted share of the topic's terms that a text contains."""
    total = sum(weights.values()) or 1.0
    return sum(weights[t] for t in set(content_terms(text)) & weights.keys()) / total


def _round_robin(
    articles: Sequence[Article], ranked: Sequence[list[Candidate]], limit: int
) -> list[Candidate]:
    """Take sentences outlet by outlet (each outlet's articles in turn), skipping near-duplicates, so that no
    single outlet fills the digest."""
    queues: dict[str, list[list[Candidate]]] = {}
    for article, candidates in zip(articles, ranked, strict=True):
        queues.setdefault(article.source, []).append(list(candidates))
    chosen: list[Candidate] = []
    turn = 0
    while len(chosen) < limit and any(any(q) for q in queues.values()):
        for per_article in queues.values():
            live = [q for q in per_article if q]
            if not live or len(chosen) == limit:
                continue
            queue = live[turn % len(live)]
            while queue:
                candidate = queue.pop(0)
                if not repeats(candidate, chosen):
                    chosen.append(candidate)
                    break
        turn += 1
    return chosen


def _timeline(
    articles: Sequence[Article], ranked: Sequence[list[Candidate]], limit: int
) -> tuple[list[DraftSentence], dict[str, datetime | None]]:
    """Each article's most central sentences, those that state a date first, dated and ordered by date."""
    per_article: list[list[tuple[datetime, int, Candidate]]] = []
    chosen: list[Candidate] = []
    for order, (article, candidates) in enumerate(zip(articles, ranked, strict=True)):
        stated = {c.position: stated_date(c.span.text, article.published_at) for c in candidates}
        published = day_of(article.published_at) if article.published_at else None
        preferred = sorted(candidates, key=lambda c: stated[c.position] is None)  # stable: keeps the ranking
        entries = []
        for candidate in pick(preferred, TIMELINE_PER_ARTICLE, chosen):
            when = stated[candidate.position] or published
            if when is not None:  # an undated sentence of an undated article cannot be placed
                entries.append((when, order, candidate))
                chosen.append(candidate)
        per_article.append(entries)
    # Every article's best entry before any article's second, so that one long article cannot fill the timeline.
    kept = [
        e for rank in range(TIMELINE_PER_ARTICLE) for entries in per_article for e in entries[rank : rank + 1]
    ]
    kept = sorted(kept[:limit], key=lambda e: (e[0], e[1], e[2].position))
    draft = [DraftSentence(text=c.span.text, passages=[c.passage]) for _, _, c in kept]
    return draft, {c.span.text: when for when, _, c in kept}


def _model_summarizer(services: Services) -> ModelSummarizer | None:
    writer = services.writer
    if not isinstance(writer, ModelWriter):
        return None
    prompt = Prompt(services.settings.prompts_dir, "summary", 1)
    summary_writer = ModelWriter(writer.completion, prompt, writer.max_tokens)

    def verified(draft: Sequence[DraftSentence], passages: Sequence[Passage]) -> list[DraftSentence]:
        checked = services.verifier.check(draft, passages)
        return [
            DraftSentence(text=c.text, passages=sorted({e.passage for e in c.evidence}))
            for c in checked
            if c.supported
        ]

    return ModelSummarizer(summary_writer, services.settings.local_ctx, verified)


def _model_draft(
    model: ModelSummarizer, kind: str, articles: Sequence[Article], passages: Sequence[Passage], limit: int
) -> list[DraftSentence]:
    """A brief: the article map-reduced. A digest: each article's verified brief (map), then one reduce over them,
    taken outlet by outlet."""
    if kind == "brief":
        return model.summarise(_brief_task(articles[0], limit), passages)
    per_source: dict[str, list[DraftSentence]] = {}
    offset = 0
    for article in articles:
        count = sum(1 for p in passages if p.chunk.article_id == article.id)
        own = passages[offset : offset + count]
        brief = model.verify(model.summarise(_brief_task(article, 2), own), own)
        shifted = [DraftSentence(text=s.text, passages=[n + offset for n in s.passages]) for s in brief]
        per_source.setdefault(article.source, []).extend(shifted)
        offset += count
    interleaved = [
        s for rank in range(limit) for items in per_source.values() for s in items[rank : rank + 1]
    ]
    task = f"Write a news digest of these items in at most {limit} sentences, covering every outlet."
    return model.reduce(task, interleaved, passages)


def _brief_task(article: Article, limit: int) -> str:
    return f'Summarise the article "{article.title}" in at most {limit} sentences.'


def _timeline_line(sentence: SummarySentence) -> str:
    day = sentence.date.date().isoformat() if sentence.date else "undated"
    marks = "".join(f"[{n}]" for n in sentence.citations) + ("" if sentence.supported else "[unverified]")
    return f"{day}: {sentence.text} {marks}".rstrip()


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
