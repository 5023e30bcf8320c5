"""The extractive reader: the direct answer first, taken verbatim from a passage, then the sentence that supports
it; or ``insufficient_evidence`` with what was found instead.

- factoid questions (who/what/when/where/how many/how much): the best phrase of the expected type
  (``rag.answering.spans``) among the sentences that bind the question's terms (``rag.answering.answerability``);
- yes/no questions: "Yes" or "No" when a sentence about the claim decides it (``rag.answering.yesno``), else the
  best sentence's negation against the question's; a choice question ("consistent or inconsistent?") reads as a
  yes/no question about its first option;
- why/how and open questions: the one or two sentences that bind the question best;
- a two-part question: each part answered from its own evidence.
Below ``min_answerability`` the draft is empty and says why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answering.answerability import UNTYPED
from rag.answering.compose import ExtractiveWriter
from rag.answering.context import QuestionContext
from rag.answering.question import AUXILIARIES, QuestionShape, part_shapes, read_question
from rag.answering.spans import Phrase, find_phrases, person_like
from rag.answering.yesno import NEGATION, Report, decide, read_claim
from rag.text import content_terms
from rag.types import Draft, DraftSentence, DraftShortAnswer, Passage

# A factoid answer from a sentence that has none of the question's terms besides its names, near it or in its
# passage, counts this share of its coverage (``QuestionContext.unbound``). Natural dev half A: abstention full 0.1
# -> 0.3, small 0.2 -> 0.3, seed 0.33 -> 0.67, false abstention full 0.076 -> 0.091, small unchanged (0.6 the same;
# 0.8 moved nothing; 0 cost a two-part question); MultiHop-RAG dev unchanged.
UNBOUND = 0.7
PROXIMITY_WEIGHT = 0.2
UNIT_BONUS = 0.15
PLACE_CUE = 0.1  # a place is named after "in", "at", "from" ("Born in Alice Springs")
# "Who scored ...": a name right before the asked verb ("Kofi Lindqvist scored") or after "<verb> by" is its doer.
# Natural dev half A neutral at 0.1 (0.2 cost a question), MultiHop-RAG dev unchanged; the README's demo question
# ("Who scored the winning goal in the Coastal Cup final?") had answered with the losing side named later.
AGENT_CUE = 0.1
_LOCATIVE = re.compile(r"\b(in|at|from|near|outside|inside|to)\s+(the\s+)?$", re.I)
MULTIWORD_BONUS = 0.05  # a person's full name over a lone capitalised word
NOT_A_PERSON = 0.15  # penalty of a "who" answer that names an organisation or event


@dataclass(frozen=True)
class _Part:
    answerability: float
    sentences: list[int]  # candidate indexes, deciding sentence first
    phrase: Phrase | None = None  # the short answer inside sentences[0]
    lead: str | None = None  # "Yes" / "No" / a choice's option


class Reader:
    """A writer (``rag.llm.llms.Writer``) that answers first. Model-free and deterministic."""

    name = "extractive"
    prompt_id: str | None = None

    def __init__(self, base: ExtractiveWriter, min_answerability: float) -> None:
        self.base = base
        self.min_answerability = min_answerability

    def write(self, question: str, passages: Sequence[Passage]) -> Draft:
        evidence = self.base.evidence(question, passages, gate=False)
        if evidence is None:
            return Draft(sentences=[], writer=self.name, answerability=0.0)
        shape = read_question(question)
        context = QuestionContext(evidence)
        # The base writer's gate averages the three best sentences, which a one-article store rarely has; the
        # reader asks for one relevant sentence and judges the rest by answerability.
        if float(evidence.relevance.max()) < self.base.min_relevance:
            return Draft(
                sentences=[], writer=self.name, answerability=0.0, refusal=context.refusal(shape.text)
            )
        if len(shape.parts) > 1:
            parts: list[_Part] = []
            for part_shape in part_shapes(shape):
                used = {p.phrase.text for p in parts if p.phrase is not None}
                parts.append(self._answer(part_shape, context, used))
        else:
            parts = [self._answer(shape, context, set())]
        # A two-part answer is shown when its parts are answered on average: one well-bound part and one weaker one
        # still answer the question better than a refusal (two-part questions on dev half A: min refused 4 of 5).
        answerability = sum(p.answerability for p in parts) / len(parts)
        if answerability < self.min_answerability or not all(p.sentences for p in parts):
            return Draft(
                sentences=[],
                writer=self.name,
                answerability=answerability,
                refusal=context.refusal(shape.text),
            )
        return self._draft(parts, context, answerability)

    def _answer(self, shape: QuestionShape, context: QuestionContext, used: set[str]) -> _Part:
        """``used``: short answers given to earlier parts of the question, not to be given again."""
        if shape.kind in ("yesno", "choice"):
            return self._decide(shape, context)
        if shape.kind == "factoid":
            return self._factoid(shape, context, used)
        ranked = context.ranked(shape.text)
        if not ranked:
            return _Part(0.0, [])
        best = ranked[0][0]
        # An explanation often runs into the next sentence: add it when it is also among the best three.
        chosen = [best] + [
            i
            for i, _ in ranked[1:3]
            if i == best + 1 and context.candidates[i].passage == context.candidates[best].passage
        ]
        return _Part(context.cover(shape.text, best), chosen)

    def _factoid(self, shape: QuestionShape, context: QuestionContext, used: set[str]) -> _Part:
        asked = set(content_terms(shape.text))
        common = set(content_terms(" ".join(w for w in shape.text.split() if not w[:1].isupper())))
        unit = shape.counted.lower().rstrip("s")[:5]
        verb = _asked_verb(shape.text)
        best: tuple[float, int, Phrase | None] | None = None
        for i, rank_score in context.ranked(shape.text):
            sentence = context.candidates[i].text
            for position, answer_type in enumerate(shape.expects):
                found = find_phrases(sentence, answer_type, shape.counted)
                if answer_type in ("name", "person", "place"):
                    found = [piece for phrase in found for piece in _pieces(phrase, common)]
                for option in found:
                    terms = set(content_terms(option.text))
                    if (terms and terms <= asked) or option.text in used:
                        continue  # the question's own words are not its answer, nor is another part's
                    score = (
                        rank_score
                        + (0.1 if position == 0 else 0.05)
                        + PROXIMITY_WEIGHT * context.proximity(shape.text, sentence, option)
                        + (UNIT_BONUS if unit and unit in option.text.lower() else 0.0)
                        + (MULTIWORD_BONUS if answer_type == "person" and " " in option.text else 0.0)
                        - (NOT_A_PERSON if answer_type == "person" and not person_like(option.text) else 0.0)
                        + (
                            PLACE_CUE
                            if answer_type == "place" and _LOCATIVE.search(sentence[: option.start])
                            else 0.0
                        )
                        + (AGENT_CUE if verb and _acts(sentence, option, verb) else 0.0)
                    )
                    if best is None or score > best[0]:
                        best = (score, i, option)
            if best is None:  # the best sentence stands in until a phrase outscores it
                best = (rank_score - 0.15, i, None)
        if best is None:
            return _Part(0.0, [])
        _, index, phrase = best
        # Scaling this by the phrase's nearness to the question's terms (0.3-0.7 of the score for none near) traded
        # abstention and false abstention no better than coverage alone on dev half A.
        # A quantity question ("how tall", "how many") is answered only by a quantity.
        untyped = 0.0 if shape.frame else UNTYPED
        answerability = context.cover(shape.text, index) * (1.0 if phrase else untyped)
        if context.unbound(shape.text, index):
            answerability *= UNBOUND
        return _Part(answerability, [index], phrase)

    def _decide(self, shape: QuestionShape, context: QuestionContext) -> _Part:
        ranked = context.ranked(shape.text)
        if not ranked:
            return _Part(0.0, [])
        order = [i for i, _ in ranked]
        candidates = context.candidates
        # A comparison of the reports the question names is decided per report (``rag.answering.yesno``).
        reports: list[Report] = []
        if context.named_outlets:
            for article in context.evidence.articles:
                found = [i for i in order if candidates[i].article_id == article]
                if found:
                    passage = context.evidence.passages[candidates[found[0]].passage - 1]
                    reports.append(Report(passage.source, passage.published_at, found))
        names = context.names(shape.text) & context.terms(shape.text)
        name_share = [0.0] * len(candidates)
        cover = [0.0] * len(candidates)
        for i in order:
            held = candidates[i].terms | context.passage_terms[candidates[i].passage - 1]
            name_share[i] = len(names & held) / len(names) if names else 1.0
            cover[i] = context.cover(shape.text, i)
        claim = read_claim(shape.text, context.terms(shape.text), names)
        verdict = decide(claim, [c.text for c in candidates], order, name_share, cover, reports)
        deciding = verdict.sentences or order[:1]
        lead = verdict.lead
        if lead is None:
            # No sentence decides: the best sentence's polarity against the question's (the rule before the
            # verdicts). Withholding the lead instead cost MultiHop-RAG dev yes/no 0.571 -> 0.163 (half A), 0.574 ->
            # 0.206 (half B), and moved no natural question.
            asked_negative = bool(NEGATION.search(shape.text))
            lead = "Yes" if bool(NEGATION.search(candidates[deciding[0]].text)) == asked_negative else "No"
        if shape.kind == "choice":
            option = shape.options[0] if lead == "Yes" else shape.options[1]
            lead = option[:1].upper() + option[1:]
        # Whether to answer at all stays the evidence's binding of the question (each named report's best sentence,
        # else the best one), whatever sentence decides the verdict: the natural dev answerability AUC held.
        binding = [report.sentences[0] for report in reports] or order[:1]
        answerability = min(cover[i] for i in binding)
        return _Part(answerability, deciding, lead=lead)

    def _draft(self, parts: list[_Part], context: QuestionContext, answerability: float) -> Draft:
        candidates = context.candidates
        first = parts[0]
        short: DraftShortAnswer | None = None
        if first.sentences:
            head = candidates[first.sentences[0]]
            if first.phrase is not None:
                short = DraftShortAnswer(
                    text=first.phrase.text,
                    passage=head.passage,
                    start=head.start + first.phrase.start,
                    end=head.start + first.phrase.end,
                )
            elif first.lead in ("Yes", "No"):
                short = DraftShortAnswer(
                    text=first.lead, passage=head.passage, start=head.start, end=head.start + len(head.text)
                )
        chosen: list[int] = []
        for part in parts:
            chosen.extend(i for i in part.sentences if i not in chosen)
        leads = [p.phrase.text if p.phrase is not None else p.lead for p in parts]
        lead = "; ".join(text for text in leads if text)
        return Draft(
            sentences=[
                DraftSentence(text=candidates[i].text, passages=[candidates[i].passage]) for i in chosen
            ],
            writer=self.name,
            short_answer=short,
            answerability=answerability,
            lead=lead or None,
        )


def _pieces(phrase: Phrase, asked: set[str]) -> list[Phrase]:
    """A name split at the question's own common words, which are dropped ("Councillor Tomas Bell" for "Which
    councillor ...", "Rogers Chair Edward Rogers" → "Rogers", "Edward Rogers" for "Who chairs ..."); ``asked``: the
    stems of the question's lower-case words."""
    pieces: list[Phrase] = []
    run: list[re.Match[str]] = []
    for token in [*re.finditer(r"\S+", phrase.text), None]:
        terms = set(content_terms(token.group())) if token is not None else set()
        # A joining word inside a name stays in it ("Economic Club of New York").
        if token is not None and ((terms and not terms <= asked) or (not terms and run)):
            run.append(token)
            continue
        while run and not content_terms(run[-1].group()):
            run.pop()
        if run:
            start, end = run[0].start(), run[-1].end()
            text = phrase.text[start:end].rstrip(",.")
            pieces.append(Phrase(text, phrase.start + start, phrase.start + start + len(text), phrase.type))
        run = []
    return pieces


def _asked_verb(question: str) -> str:
    """The stem of the verb of a "Who <verb> ..." question ("score" for "Who scored ..."); empty when the question
    asks for an object ("Who did X beat?") or has no verb right after its wh-word."""
    match = re.match(r"^\s*who\s+(\w+)", question, re.I)
    if not match or match.group(1).lower() in AUXILIARIES:
        return ""
    stems = content_terms(match.group(1))
    return stems[0] if stems else ""


def _acts(sentence: str, phrase: Phrase, verb: str) -> bool:
    """The phrase is the doer of the asked verb: the verb follows it ("Kofi Lindqvist scored") or "by" it follows
    the verb ("scored by Kofi Lindqvist")."""
    after = sentence[phrase.end :].split()[:2]
    before = sentence[: phrase.start].split()[-3:]
    # Whole stems, not prefixes: "Pebble founder Eric Migicovsky" does not make Pebble the one who founded.
    follows = any(stem == verb for word in after for stem in content_terms(word))
    passive = len(before) >= 2 and before[-1].lower() == "by" and any(
        stem == verb for word in before[:-1] for stem in content_terms(word)
    )
    return follows or passive
