"""The evidence of one question as the reader sees it: candidate sentences ranked for a question, how well each
binds the question (``cover``), how near a phrase stands to the question's terms (``proximity``), and what to say
when nothing answers (``refusal``)."""

from __future__ import annotations

import re

from rag.answering.answerability import TermWeights, coverage, question_terms
from rag.answering.compose import Evidence
from rag.answering.question import read_question
from rag.answering.spans import Phrase, find_phrases
from rag.retrieval.article_choice import outlet_mentions
from rag.retrieval.coverage import question_names
from rag.text import content_terms, words

NAME_SHARE = 0.5  # of a sentence's binding score: the question's names; the rest its other terms
TOP_SENTENCES = 12  # candidate sentences read for an answer, by relevance
RELEVANCE_WEIGHT = 0.4  # of a sentence's rank score; the rest is its coverage of the question's terms
WINDOW = 8  # words either side of a phrase in which the question's terms count as near it
# A long question's coverage is read as if it had this many terms (score ** (6 / n)): one sentence holds a few of a
# 40-word MultiHop-RAG question's terms. Without it, MultiHop-RAG dev half A refused 0.46 of answerable questions at
# the natural set's threshold; with it 0.10 (null abstention 0.79); the natural set barely moves (most have <= 6).
SENTENCE_TERMS = 6


class QuestionContext:
    """The evidence of one question, with what every answer rule needs precomputed."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self.candidates = evidence.candidates
        passages = evidence.passages
        self.weights = TermWeights([c.terms for c in self.candidates])
        self.sources = sorted({p.source for p in passages})
        self.outlet_terms = set(content_terms(" ".join(self.sources)))
        self.passage_terms = [set(content_terms(p.chunk.text)) for p in passages]
        self.title_terms = [set(content_terms(p.title)) for p in passages]
        self._terms: dict[str, set[str]] = {}
        self._names: dict[str, set[str]] = {}
        self.near: list[set[str]] = []
        for i, candidate in enumerate(self.candidates):
            near = set(self.title_terms[candidate.passage - 1])
            for j in (i - 1, i + 1):
                if 0 <= j < len(self.candidates) and self.candidates[j].passage == candidate.passage:
                    near |= self.candidates[j].terms
            self.near.append(near)
        # Sentences from the articles the question points at (its outlets), else all of them.
        articles = set(evidence.articles)
        self.named_outlets = bool(outlet_mentions(evidence.question, passages))
        self.allowed = [
            i for i, c in enumerate(self.candidates) if not self.named_outlets or c.article_id in articles
        ]

    def cover(self, question: str, index: int) -> float:
        """How well sentence ``index`` binds the question: the names it asks about (each counts alike, however
        common among the passages) and its other terms (IDF-weighted), found in the sentence, next to it or in its
        passage (``rag.answering.answerability``)."""
        terms = self.terms(question)
        named = self.names(question) & terms
        where = self._where(index)
        predicate = coverage(terms - named, *where, self.weights) if terms - named else None
        binding = coverage(named, *where, None) if named else None
        if predicate is None or binding is None:
            score = predicate if predicate is not None else binding if binding is not None else 0.0
        else:
            score = NAME_SHARE * binding + (1 - NAME_SHARE) * predicate
        if SENTENCE_TERMS and len(terms) > SENTENCE_TERMS:
            score = score ** (SENTENCE_TERMS / len(terms))
        return score

    def unbound(self, question: str, index: int) -> bool:
        """None of the question's terms other than its names is in sentence ``index``, next to it or in its
        passage: the sentence is about the asked entity but not about what is asked of it ("Who is the CEO of
        Rivian?" answered from a sentence about Rivian's trucks)."""
        predicate = self.terms(question) - self.names(question)
        return bool(predicate) and coverage(predicate, *self._where(index), None) == 0.0

    def _where(self, index: int) -> tuple[set[str], set[str], set[str]]:
        """The terms of sentence ``index``, of its neighbours and title, and of its passage."""
        candidate = self.candidates[index]
        return candidate.terms, self.near[index], self.passage_terms[candidate.passage - 1]

    def names(self, question: str) -> set[str]:
        if question not in self._names:
            self._names[question] = set(content_terms(" ".join(question_names(question, self.sources))))
        return self._names[question]

    def terms(self, question: str) -> set[str]:
        """The question's terms an answer sentence should carry: not its outlets, nor its frame ("how far").
        Read once per question: every sentence's coverage and every phrase's proximity asks for them."""
        if question not in self._terms:
            frame = content_terms(" ".join(read_question(question).frame))
            self._terms[question] = question_terms(question, self.outlet_terms | set(frame))
        return self._terms[question]

    def ranked(self, question: str) -> list[tuple[int, float]]:
        """The best candidate sentences for ``question``: relevance blended with coverage, best first."""
        relevance = self.evidence.relevance
        top = sorted(self.allowed, key=lambda i: -float(relevance[i]))[:TOP_SENTENCES]
        scored = [
            (i, RELEVANCE_WEIGHT * float(relevance[i]) + (1 - RELEVANCE_WEIGHT) * self.cover(question, i))
            for i in top
        ]
        return sorted(scored, key=lambda pair: -pair[1])

    def proximity(self, question: str, sentence: str, phrase: Phrase) -> float:
        """The share of the question's terms that stand within ``WINDOW`` words of the phrase, nearer ones counting
        more: the answer to "which state was the first to ban TikTok" stands by "first state to ban TikTok". Terms
        match by stem or by a shared 5-letter prefix ("creator" for "created")."""
        terms = self.terms(question)
        if not terms:
            return 0.0
        prefixes = {t[:5] for t in terms if len(t) >= 5}
        tokens = [(m.start(), m.group()) for m in re.finditer(r"\S+", sentence)]
        before = [t for t in tokens if t[0] + len(t[1]) <= phrase.start][::-1][:WINDOW]
        after = [t for t in tokens if t[0] >= phrase.end][:WINDOW]
        found: dict[str, float] = {}
        for side in (before, after):
            for distance, (_, token) in enumerate(side):
                for term in content_terms(token):
                    key = term if term in terms else term[:5] if term[:5] in prefixes else None
                    if key is not None:
                        found[key] = max(found.get(key, 0.0), 1.0 / (1.0 + distance / 3.0))
        return min(1.0, sum(found.values()) / len(terms))

    def refusal(self, question: str) -> str:
        """What was found instead: the closest report, and the question's words it does not mention."""
        ranked = self.ranked(question)
        if not ranked:
            return "No passage answers this question."
        index = ranked[0][0]
        candidate = self.candidates[index]
        passage = self.evidence.passages[candidate.passage - 1]
        found = candidate.terms | self.near[index]
        missing = [
            w
            for w in dict.fromkeys(words(question))
            if set(content_terms(w)) & self.terms(question) and not set(content_terms(w)) & found
        ]
        closest = f"the closest passage, from {passage.source or 'an article'} (“{passage.title}”),"
        shape = read_question(question)
        typed = any(find_phrases(candidate.text, t, shape.counted) for t in shape.expects)
        if shape.frame and shape.expects and not typed:
            # "How tall is X?": the sentence names X, and says nothing of a height.
            return f"No passage states the answer: {closest} does not say how {shape.frame[0]}."
        if missing:
            quoted = ", ".join(f"“{w}”" for w in missing[:4])
            return f"No passage states the answer: {closest} does not mention {quoted}."
        return f"No passage states the answer: {closest} does not say it."
