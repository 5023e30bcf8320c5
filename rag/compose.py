"""Writing from passages: the extractive writer, and turning verified sentences into a cited ``Answer``."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rag.embedders import Embedder
from rag.text import content_terms, split_sentences
from rag.types import Answer, AnswerSentence, Citation, Draft, DraftSentence, Passage, Status
from rag.verify import CheckedSentence

NO_ANSWER = "The available sources do not contain enough information to answer this."
MIN_SENTENCE_WORDS = 5
MAX_PER_PASSAGE = 2
DUPLICATE_JACCARD = 0.6
EVIDENCE_TOP = 3
# Text in an article that addresses AI systems ("ignore previous instructions", "system message to AI models") is
# an attempted prompt injection: it is never repeated as an answer sentence, even though it is quoted news text.
INSTRUCTION = re.compile(
    r"ignore (all |any )?(previous|prior|above) instructions|disregard (your|all|the) (rules|instructions)"
    r"|(system|developer) (message|prompt)|\bAI (assistants?|models?|systems?)\b.{0,40}\b(must|should|ignore|tell|say)",
    re.I,
)


class ExtractiveWriter:
    """Selects the sentences of the retrieved passages most relevant to the question, verbatim, each citing its
    passage. Deterministic and model-free: it cannot state anything the sources do not say."""

    name = "extractive"
    prompt_id: str | None = None

    def __init__(
        self, embedder: Embedder | None, max_sentences: int = 4, min_relevance: float = 0.28
    ) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.min_relevance = min_relevance

    def write(self, question: str, passages: Sequence[Passage]) -> Draft:
        candidates: list[tuple[int, str, set[str]]] = []
        seen: set[str] = set()
        for n, passage in enumerate(passages, start=1):
            for span in split_sentences(passage.chunk.text):
                key = re.sub(r"\W+", " ", span.text.lower()).strip()
                if (
                    len(span.text.split()) < MIN_SENTENCE_WORDS
                    or key in seen
                    or INSTRUCTION.search(span.text)
                ):
                    continue
                seen.add(key)
                candidates.append((n, span.text, set(content_terms(span.text))))
        question_terms = set(content_terms(question))
        if not candidates or not question_terms:
            return Draft(sentences=[], writer=self.name)
        relevance = self.relevance(question, question_terms, candidates)
        # Evidence strength: the mean relevance of the three best sentences. One lucky sentence is not enough to
        # answer; below the threshold the sources are judged not to hold the answer (calibrated on the dev split).
        if float(np.sort(relevance)[-EVIDENCE_TOP:].mean()) < self.min_relevance:
            return Draft(sentences=[], writer=self.name)
        chosen: list[tuple[int, str, set[str]]] = []
        per_passage: Counter[int] = Counter()
        for index in np.argsort(-relevance, kind="stable"):
            if relevance[index] < self.min_relevance or len(chosen) == self.max_sentences:
                break
            n, _, terms = candidates[index]
            if per_passage[n] >= MAX_PER_PASSAGE or any(
                _jaccard(terms, t) > DUPLICATE_JACCARD for _, _, t in chosen
            ):
                continue
            chosen.append(candidates[index])
            per_passage[n] += 1
        return Draft(
            sentences=[DraftSentence(text=text, passages=[n]) for n, text, _ in chosen], writer=self.name
        )

    def relevance(
        self, question: str, question_terms: set[str], candidates: list[tuple[int, str, set[str]]]
    ) -> np.ndarray:
        """Per candidate: IDF-weighted share of the question's terms it contains, blended with embedding cosine."""
        df = Counter(t for _, _, terms in candidates for t in terms & question_terms)
        weight = {t: math.log(1.0 + len(candidates) / (1.0 + df[t])) for t in question_terms}
        total = sum(weight.values())
        lexical = np.array(
            [sum(weight[t] for t in terms & question_terms) / total for _, _, terms in candidates]
        )
        if self.embedder is None:
            return lexical
        vectors = self.embedder.embed([question] + [text for _, text, _ in candidates])
        cosine = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
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
) -> Answer:
    """Number the citations, drop or flag unsupported sentences, and decide the status."""
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
    text = " ".join(_render(s) for s in sentences) if status == "answered" else NO_ANSWER
    return Answer(
        question=question,
        answer=text,
        status=status,
        sentences=sentences if status == "answered" else [],
        citations=citations if status == "answered" else [],
        writer=writer,
        prompt_id=prompt_id,
        timings=timings,
    )


def _render(sentence: AnswerSentence) -> str:
    marks = "".join(f"[{n}]" for n in sentence.citations)
    if not sentence.supported:
        marks += "[unverified]"
    text = sentence.text.rstrip()
    match = re.search(r"[.!?]+[\"'”’)\]]*$", text)
    if match and marks:
        return f"{text[: match.start()]} {marks}{text[match.start() :]}"
    return f"{text} {marks}".rstrip()
