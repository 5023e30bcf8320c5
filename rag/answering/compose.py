"""Writing from passages: the extractive writer, and turning verified sentences into a cited ``Answer``."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from rag.answering.sentences import not_an_answer_sentence
from rag.answering.verify import CheckedSentence
from rag.retrieval.article_choice import choose_articles
from rag.retrieval.embedders import Embedder
from rag.text import content_terms, line_around, split_sentences
from rag.types import Answer, AnswerSentence, Citation, Draft, DraftSentence, Passage, ShortAnswer, Status

NO_ANSWER = "The available sources do not contain enough information to answer this."
MIN_SENTENCE_WORDS = 5
MAX_PER_PASSAGE = 2
DUPLICATE_JACCARD = 0.6
EVIDENCE_TOP = 3
# Citation precision on MultiHop-RAG dev (half A): one article per outlet mention 0.73 -> 0.79, + publication-day
# bonus 0.81; up to 3 sentences per chosen article keeps inference accuracy (2: 0.566, 3: 0.579; before 0.600).
MAX_PER_ARTICLE = 3
DEFAULT_ARTICLES = 2  # when the question names no outlet
# Text in an article that addresses AI systems ("ignore previous instructions", "system message to AI models") is
# an attempted prompt injection: it is never repeated as an answer sentence, even though it is quoted news text.
INSTRUCTION = re.compile(
    r"ignore (all |any )?(previous|prior|above) instructions|disregard (your|all|the) (rules|instructions)"
    r"|(system|developer) (message|prompt)|\bAI (assistants?|models?|systems?)\b.{0,40}\b(must|should|ignore|tell|say)",
    re.I,
)


class ExtractiveWriter:
    """Selects the sentences of the retrieved passages most relevant to the question, verbatim, each citing its
    passage. Deterministic and model-free: it cannot state anything the sources do not say.

    It cites as few articles as the question asks about: one per mention of an outlet the question names ("the
    TechCrunch report on X ... and the TechCrunch report on Y" asks about two TechCrunch articles), else at most
    ``DEFAULT_ARTICLES``. Within an outlet, the article that best fits the clause describing that report is chosen
    (``rag.retrieval.article_choice``)."""

    name = "extractive"
    prompt_id: str | None = None

    def __init__(
        self, embedder: Embedder | None, max_sentences: int = 4, min_relevance: float = 0.28
    ) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.min_relevance = min_relevance

    def write(self, question: str, passages: Sequence[Passage]) -> Draft:
        evidence = self.evidence(question, passages)
        if evidence is None:
            return Draft(sentences=[], writer=self.name)
        chosen = self.select(evidence)
        return Draft(
            sentences=[
                DraftSentence(text=evidence.candidates[i].text, passages=[evidence.candidates[i].passage])
                for i in chosen
            ],
            writer=self.name,
        )

    def evidence(self, question: str, passages: Sequence[Passage], gate: bool = True) -> Evidence | None:
        """The candidate sentences, their relevance to the question and the articles to cite; None when there are
        none, or (with ``gate``) when the passages hold no sentence relevant enough to answer from."""
        candidates = candidate_sentences(passages)
        question_terms = set(content_terms(question))
        if not candidates or not question_terms:
            return None
        scorer = _SentenceRelevance(self.embedder, candidates)
        relevance = scorer.score(question, range(len(candidates)))
        # Evidence strength: the mean relevance of the three best sentences. One lucky sentence is not enough to
        # answer; below the threshold the sources are judged not to hold the answer (calibrated on the dev split).
        if gate and not self.strong(relevance):
            return None
        articles = self._articles(question, passages, candidates, relevance, scorer)
        return Evidence(question, passages, candidates, relevance, articles)

    def strong(self, relevance: np.ndarray) -> bool:
        return float(np.sort(relevance)[-EVIDENCE_TOP:].mean()) >= self.min_relevance

    def select(self, evidence: Evidence) -> list[int]:
        """Indexes of the sentences to answer with, best first."""
        candidates, relevance, articles = evidence.candidates, evidence.relevance, evidence.articles
        ranked = [
            i
            for i in np.argsort(-relevance, kind="stable")
            if candidates[i].article_id in articles and relevance[i] >= self.min_relevance
        ]
        # The best sentence of every chosen article first (a question about two reports needs both), then the
        # next best ones, within the per-passage and per-article limits and without near-duplicates.
        firsts = [next(i for i in ranked if candidates[i].article_id == a) for a in articles]
        chosen: list[int] = []
        for index in [*firsts, *ranked]:
            if len(chosen) == self.max_sentences:
                break
            candidate = candidates[index]
            if (
                index in chosen
                or sum(candidates[i].passage == candidate.passage for i in chosen) >= MAX_PER_PASSAGE
                or sum(candidates[i].article_id == candidate.article_id for i in chosen) >= MAX_PER_ARTICLE
                or any(_jaccard(candidate.terms, candidates[i].terms) > DUPLICATE_JACCARD for i in chosen)
            ):
                continue
            chosen.append(index)
        chosen.sort(key=lambda i: -relevance[i])
        return chosen

    def _articles(
        self,
        question: str,
        passages: Sequence[Passage],
        candidates: Sequence[_Candidate],
        relevance: np.ndarray,
        scorer: _SentenceRelevance,
    ) -> list[str]:
        """The articles to cite (``rag.retrieval.article_choice``), from those with a relevant sentence."""
        best: dict[str, float] = {}
        passage_of: dict[str, Passage] = {}
        sentences_of: dict[str, list[int]] = {}
        for i, (candidate, score) in enumerate(zip(candidates, relevance, strict=True)):
            if score >= self.min_relevance:
                best[candidate.article_id] = max(best.get(candidate.article_id, 0.0), float(score))
                passage_of.setdefault(candidate.article_id, passages[candidate.passage - 1])
                sentences_of.setdefault(candidate.article_id, []).append(i)
        return choose_articles(
            question, passages, passage_of, sentences_of, best, scorer.score, DEFAULT_ARTICLES
        )


class _Candidate(NamedTuple):
    passage: int  # 1-based index into the passages
    article_id: str
    text: str
    terms: set[str]
    start: int = 0  # offset of the sentence in its passage's chunk text


class Evidence(NamedTuple):
    """What the extractive writer reads before it writes: shared with the reader (``rag.answering``)."""

    question: str
    passages: Sequence[Passage]
    candidates: list[_Candidate]
    relevance: np.ndarray
    articles: list[str]


def candidate_sentences(passages: Sequence[Passage]) -> list[_Candidate]:
    """The sentences of the passages that can be answer sentences, once each, with their offsets."""
    candidates: list[_Candidate] = []
    seen: set[str] = set()
    for n, passage in enumerate(passages, start=1):
        for span in split_sentences(passage.chunk.text):
            key = re.sub(r"\W+", " ", span.text.lower()).strip()
            if (
                len(span.text.split()) < MIN_SENTENCE_WORDS
                or key in seen
                or INSTRUCTION.search(span.text)
                or not_an_answer_sentence(
                    span.text, passage.title, line_around(passage.chunk.text, span.start, span.end)
                )
            ):
                continue
            seen.add(key)
            candidates.append(
                _Candidate(n, passage.chunk.article_id, span.text, set(content_terms(span.text)), span.start)
            )
    return candidates


class _SentenceRelevance:
    """Relevance of candidate sentences to a text: the IDF-weighted share of the text's terms a sentence contains
    (IDF over the sentences scored), blended with embedding cosine. Sentences are embedded once per answer."""

    def __init__(self, embedder: Embedder | None, candidates: Sequence[_Candidate]) -> None:
        self.embedder = embedder
        self.candidates = candidates
        self.vectors = embedder.embed([c.text for c in candidates]) if embedder is not None else None

    def score(self, text: str, indices: Sequence[int]) -> np.ndarray:
        terms = set(content_terms(text))
        chosen = [self.candidates[i] for i in indices]
        df = Counter(t for c in chosen for t in c.terms & terms)
        weight = {t: math.log(1.0 + len(chosen) / (1.0 + df[t])) for t in terms}
        total = sum(weight.values()) or 1.0
        lexical = np.array([sum(weight[t] for t in c.terms & terms) / total for c in chosen])
        if self.embedder is None or self.vectors is None:
            return lexical
        cosine = np.clip(self.vectors[list(indices)] @ self.embedder.embed([text])[0], 0.0, 1.0)
        return np.asarray(0.5 * lexical + 0.5 * cosine, dtype=np.float64)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def assemble(
    question: str,
    checked: Sequence[CheckedSentence],
    passages: Sequence[Passage],
    *,
    writer: str,
    prompt_id: str | None,
    unsupported: str,
    timings: dict[str, float],
    draft: Draft | None = None,
) -> Answer:
    """Number the citations, drop or flag unsupported sentences, and decide the status. The ``draft``'s short
    answer, lead and refusal (the reader's) open the answer or say why there is none."""
    citations: list[Citation] = []
    numbering: dict[tuple[str, int, int], int] = {}
    sentences: list[AnswerSentence] = []
    seen: set[str] = set()
    for sentence in checked:
        claim = " ".join(content_terms(sentence.text))
        if (not sentence.supported and unsupported == "drop") or claim in seen:
            continue  # small models repeat themselves; a repeated sentence adds nothing
        seen.add(claim)
        numbers: list[int] = []
        for evidence in sentence.evidence:
            passage = passages[evidence.passage - 1]
            key = (passage.chunk.id, evidence.span.start, evidence.span.end)
            if key not in numbering:
                numbering[key] = len(citations) + 1
                citations.append(
                    Citation(
                        n=numbering[key],
                        article_id=passage.chunk.article_id,
                        chunk_id=passage.chunk.id,
                        title=passage.title,
                        source=passage.source,
                        url=passage.url,
                        published_at=passage.published_at,
                        quote=evidence.span.text,
                        start=evidence.span.start,
                        end=evidence.span.end,
                        copies=passage.copies,
                    )
                )
            if numbering[key] not in numbers:
                numbers.append(numbering[key])
        sentences.append(
            AnswerSentence(
                text=sentence.text, citations=numbers, support=sentence.support, supported=sentence.supported
            )
        )
    status: Status = "answered" if any(s.supported for s in sentences) else "insufficient_evidence"
    short = _short_answer(draft, passages, citations) if status == "answered" else None
    if status == "answered":
        text = " ".join(_render(s) for s in sentences)
        # The direct answer first: the reader's lead (one per part of the question), else a model's short answer.
        lead = draft.lead if draft is not None else None
        if not lead and short is not None:
            lead = short.text
        if lead:
            marks = f" [{short.citation}]" if short is not None else ""
            text = f"{lead}{marks}. {text}"
    else:
        refusal = draft.refusal if draft is not None else None
        text = f"{NO_ANSWER} {refusal}" if refusal else NO_ANSWER
    return Answer(
        question=question,
        answer=text,
        status=status,
        sentences=sentences if status == "answered" else [],
        citations=citations if status == "answered" else [],
        writer=writer,
        prompt_id=prompt_id,
        timings=timings,
        short_answer=short,
        answerability=draft.answerability if draft is not None else None,
    )


def _short_answer(
    draft: Draft | None, passages: Sequence[Passage], citations: Sequence[Citation]
) -> ShortAnswer | None:
    """The draft's short answer in article offsets, cited by the citation whose quote contains it; none when the
    sentence holding it was not shown."""
    if draft is None or draft.short_answer is None or not 1 <= draft.short_answer.passage <= len(passages):
        return None
    short = draft.short_answer
    chunk = passages[short.passage - 1].chunk
    start, end = chunk.start + short.start, chunk.start + short.end
    for citation in citations:
        if citation.chunk_id == chunk.id and citation.start <= start and end <= citation.end:
            return ShortAnswer(text=short.text, citation=citation.n, start=start, end=end)
    return None


def _render(sentence: AnswerSentence) -> str:
    marks = "".join(f"[{n}]" for n in sentence.citations)
    if not sentence.supported:
        marks += "[unverified]"
    text = sentence.text.rstrip()
    match = re.search(r"[.!?]+[\"'”’)\]]*$", text)
    if match and marks:
        return f"{text[: match.start()]} {marks}{text[match.start() :]}"
    return f"{text} {marks}".rstrip()
