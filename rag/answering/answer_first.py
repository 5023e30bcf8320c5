"""The answer-first writer (prompts/answer.v2.*): the model replies with one line

    ANSWER: <short phrase copied from a passage | Yes | No | NOT FOUND> [n]

and the reply becomes a Draft: the short answer located verbatim in the passage it cites, or for a phrase with
words in another passage it was shown (offsets in that chunk's text); one evidence sentence taken from that passage
by the code (the sentence holding the phrase; for Yes/No the passage's sentence most relevant to the question); a
refusal for NOT FOUND; and an answerability score. Evidence is not generated: it comes after the answer, so it
cannot improve it, and writing it cost ~50 tokens (2-3 s on 2 cores) per question; an ``EVIDENCE:`` line, if the
model writes one anyway, is read. The parser is tolerant (labels in any case or in bold, a missing label, quotes,
trailing full stops), because a 1.5B model's format drifts; what it cannot read becomes no short answer, never an
invented one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from rag.answering.context_select import render_excerpts, select_sentences
from rag.llm.llms import Completion, ModelWriter, Prompt, parse_cited_text
from rag.text import content_terms, split_sentences
from rag.types import Draft, DraftSentence, DraftShortAnswer, Passage

Kind = Literal["phrase", "yes", "no", "not_found", "none"]

_LABEL = re.compile(r"^[\s>*_#-]*(answer|short answer|evidence|support|reason)[\s*_]*:[\s*_]*", re.I | re.M)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_NOT_FOUND = re.compile(
    r"^(not[ _]found|insufficient (evidence|information)|unknown|n/?a|none|no answer|not (stated|mentioned|"
    r"given|available|specified)|the passages do not (say|state|mention|contain))\b",
    re.I,
)
_YES_NO = re.compile(r"^(yes|no)\b(?![-'’])", re.I)
_QUOTES = "\"'“”‘’«»`"
_FOLD = {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "}
REFUSAL = "The passages do not state the answer to this question."
ANSWER_LABEL = "ANSWER:"
UNLABELLED_ANSWER_WORDS = (
    6  # a first line this short without a label is the answer line, a longer one a sentence
)
NOT_FOUND_WORDS = ("NOT", "Not found")


@runtime_checkable
class ScoredCompletion(Protocol):
    """A completion that also reports the probability that the reply's first token after ``after`` begins one
    of ``words`` (``rag.llm.llama_adapter.LlamaCompletion``)."""

    def complete_scored(
        self, system: str, user: str, max_tokens: int, after: str, words: Sequence[str]
    ) -> tuple[str, float | None]: ...


@dataclass
class Reply:
    kind: Kind
    answer: str = ""  # the phrase as the model wrote it, quotes and markers removed
    answer_cites: list[int] = field(default_factory=list)
    evidence: list[DraftSentence] = field(default_factory=list)


def parse_reply(text: str) -> Reply:
    """Read a reply; a reply without the ANSWER label is read as evidence only (kind "none")."""
    sections: dict[str, str] = {}
    matches = list(_LABEL.finditer(text))
    for i, match in enumerate(matches):
        label = match.group(1).lower()
        key = "answer" if label in ("answer", "short answer") else "evidence"
        body = text[match.end() : matches[i + 1].start() if i + 1 < len(matches) else len(text)].strip()
        sections.setdefault(key, body)
    if "answer" not in sections:
        body = text[matches[0].end() :] if matches else text
        if _NOT_FOUND.match(body.strip().strip(_QUOTES)):
            return Reply("not_found")
        first = _MARKER.sub("", body.strip().split("\n", 1)[0]).strip()
        length = len(first.split())
        if (
            matches
            or not first
            or length > UNLABELLED_ANSWER_WORDS
            or (length >= 4 and first.endswith((".", "!", "?")))  # a sentence, not a phrase
        ):
            return Reply("none", evidence=parse_cited_text(body))
        sections["answer"] = body.strip()  # the label left out: "Kofi Lindqvist [1]" is still the answer line
    answer_text = sections["answer"]
    first_line, _, rest = answer_text.partition("\n")
    evidence_text = sections.get("evidence", "") or rest
    cites = [int(n) for n in _MARKER.findall(first_line)]
    phrase = _MARKER.sub("", first_line).strip()
    phrase = phrase.strip(_QUOTES + " *_").rstrip(".,;:").strip(_QUOTES + " *_")  # quotes, markdown emphasis
    evidence = [] if _NOT_FOUND.match(evidence_text.strip()) else parse_cited_text(evidence_text)
    if not phrase or _NOT_FOUND.match(phrase):
        return Reply("not_found")
    yes_no = _YES_NO.match(phrase)
    if yes_no:
        kind: Kind = "yes" if yes_no.group(1).lower() == "yes" else "no"
        return Reply(kind, phrase[: yes_no.end()].capitalize(), cites, evidence)
    return Reply("phrase", phrase, cites, evidence)


def locate(phrase: str, text: str) -> tuple[int, int] | None:
    """``phrase`` in ``text`` ignoring case, curly/straight quotes, dash kinds and runs of whitespace; the span in
    ``text``. A match at word boundaries is preferred ("6.4" must not match inside "16.4")."""
    needle = _normalise(phrase)[0].strip()
    haystack, index = _normalise(text)
    if not needle:
        return None
    fallback: tuple[int, int] | None = None
    for match in re.finditer(re.escape(needle), haystack):
        start, end = match.start(), match.end()
        span = (index[start], index[end - 1] + 1)
        before = haystack[start - 1] if start > 0 else " "
        after = haystack[end] if end < len(haystack) else " "
        if not before.isalnum() and not after.isalnum():
            return span
        fallback = fallback or span
    return fallback


def locate_prefix(phrase: str, text: str) -> tuple[int, int] | None:
    """``locate`` the phrase, else its longest leading part of at least half its words: the model often runs on
    past the passage's words ("3.67 times more likely" where the passage says "3.67 times as likely")."""
    words = phrase.split()
    for keep in range(len(words), (len(words) + 1) // 2 - 1, -1):
        span = locate(" ".join(words[:keep]), text) if keep else None
        if span is not None:
            return span
    return None


def _normalise(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each of its characters, the index of the original character it came from."""
    out: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text):
        if char == "," and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue  # "4,200" and "4200" are the same number
        folded = _FOLD.get(char, char).lower()
        if folded.isspace():
            if out and out[-1] == " ":
                continue
            folded = " "
        for piece in folded:
            out.append(piece)
            index.append(i)
    return "".join(out), index


def build_draft(
    reply: Reply,
    passages: Sequence[Passage],
    writer: str,
    prompt_id: str | None,
    question: str = "",
    not_found_probability: float | None = None,
) -> Draft:
    """The Draft of a parsed reply; the short answer only where its text stands in a passage it cites.

    ``answerability`` is 1 - the probability the model gave to NOT FOUND at the answer's first token when known,
    else its decision (1.0 answered, 0.0 NOT FOUND)."""
    decided = {"not_found": 0.0, "none": None}.get(reply.kind, 1.0)
    answerability = decided if not_found_probability is None else round(1.0 - not_found_probability, 4)
    if reply.kind == "not_found":
        return Draft(
            sentences=[], writer=writer, prompt_id=prompt_id, answerability=answerability, refusal=REFUSAL
        )
    if not passages:  # streamed text drafted without its passages: nothing to place a short answer in
        return Draft(
            sentences=reply.evidence, writer=writer, prompt_id=prompt_id, answerability=answerability
        )
    valid = range(1, len(passages) + 1)
    evidence = [
        s.model_copy(update={"passages": [n for n in s.passages if n in valid]})
        for s in reply.evidence
        if s.passages  # an uncited or cut-off sentence cannot be checked
    ]
    cited = [n for n in reply.answer_cites if n in valid] or [n for s in evidence for n in s.passages]
    short: DraftShortAnswer | None = None
    if reply.kind == "phrase":
        # The cited passages first; then, for a phrase with words in it, every other passage: a 1.5B model often
        # cites the wrong number for a phrase it copied verbatim (seen on the natural set: "3.67 times more likely
        # [2]" standing in passage 1), and found verbatim in passage n, citing n is true. A bare number or tiny
        # word is only taken from a passage it cites: "4" stands somewhere in almost any passage.
        distinctive = len(re.sub(r"[^A-Za-z]", "", reply.answer)) >= 3
        for n in dict.fromkeys([*cited, *(valid if distinctive else ())]):
            span = locate_prefix(reply.answer, passages[n - 1].chunk.text)
            if span is not None:
                text = passages[n - 1].chunk.text
                short = DraftShortAnswer(text=text[span[0] : span[1]], passage=n, start=span[0], end=span[1])
                if not evidence:  # the sentence holding the phrase is its evidence
                    evidence = [_sentence_around(text, span, n)]
                break
    elif reply.kind in ("yes", "no") and cited:
        n = cited[0]
        text = passages[n - 1].chunk.text
        if evidence:
            start, end = _deciding_span(evidence[0].text, text)
        else:
            best = select_sentences(question, [passages[n - 1]], max_sentences=1)
            start, end = (best[0].start, best[0].end) if best else (0, 0)
            if end > start:
                evidence = [DraftSentence(text=text[start:end], passages=[n])]
        short = DraftShortAnswer(text=reply.answer, passage=n, start=start, end=end)
    return Draft(
        sentences=evidence,
        writer=writer,
        prompt_id=prompt_id,
        short_answer=short,
        answerability=answerability,
    )


def _sentence_around(text: str, span: tuple[int, int], n: int) -> DraftSentence:
    for sentence in split_sentences(text):
        if sentence.start <= span[0] < sentence.end:
            return DraftSentence(text=sentence.text, passages=[n])
    return DraftSentence(text=text[span[0] : span[1]], passages=[n])


def _deciding_span(claim: str, text: str) -> tuple[int, int]:
    """The chunk sentence a yes/no evidence sentence restates: verbatim if it is, else the most overlapping."""
    exact = locate(claim.rstrip("."), text)
    if exact is not None:
        return exact
    terms = set(content_terms(claim))
    best = max(
        split_sentences(text),
        key=lambda s: (
            len(terms & set(content_terms(s.text))) / (len(terms | set(content_terms(s.text))) or 1)
        ),
        default=None,
    )
    return (best.start, best.end) if best is not None else (0, 0)


class AnswerFirstWriter(ModelWriter):
    """A ModelWriter with the answer-first prompt over the question's most relevant sentences only."""

    def __init__(
        self,
        completion: Completion,
        prompt: Prompt,
        max_tokens: int = 256,
        max_sentences: int = 6,
        answer_tokens: int = 48,
    ) -> None:
        # max_tokens stays the budget of other prompts through this writer's completion (summaries); one answer
        # line needs far fewer, and a model that runs on is cut off early.
        super().__init__(completion, prompt, max_tokens)
        self.max_sentences = max_sentences
        self.answer_tokens = answer_tokens

    def user_message(self, question: str, passages: Sequence[Passage]) -> str:
        excerpts = select_sentences(question, passages, self.max_sentences)
        return self.prompt.user.format(passages=render_excerpts(excerpts, passages), question=question)

    def write(self, question: str, passages: Sequence[Passage]) -> Draft:
        if not passages:
            return Draft(sentences=[], writer=self.name, prompt_id=self.prompt_id)
        user = self.user_message(question, passages)
        if isinstance(self.completion, ScoredCompletion):
            text, not_found = self.completion.complete_scored(
                self.prompt.system, user, self.answer_tokens, ANSWER_LABEL, NOT_FOUND_WORDS
            )
            return build_draft(parse_reply(text), passages, self.name, self.prompt_id, question, not_found)
        return self.draft(
            self.completion.complete(self.prompt.system, user, self.answer_tokens), passages, question
        )

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        if not passages:
            return iter(())
        return self.completion.stream(
            self.prompt.system, self.user_message(question, passages), self.answer_tokens
        )

    def draft(self, text: str, passages: Sequence[Passage] = (), question: str = "") -> Draft:
        """The Draft of a reply; without the passages the short answer cannot be placed and is left out, without
        the question a Yes/No answer's deciding sentence is the cited passage's first."""
        return build_draft(parse_reply(text), passages, self.name, self.prompt_id, question)
