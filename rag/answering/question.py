"""What a question asks for, read without a model: its kind, the kind of phrase that answers it, and its parts.

The kind comes from the question's opening words (after any "According to X," preamble): an auxiliary verb opens a
yes/no question ("Did ...", "Is ..."); wh-words and "how many/much/old/long" set the expected answer type. "What" and
"which" take the type from the noun that follows ("what team" expects a name, "what date" a date, "what score" a
score). A question that asks two things ("How old was X when ..., and how did his first game end?") is split into
parts, each answered from its own evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from rag.text import content_terms

AnswerType = Literal[
    "name", "person", "place", "date", "number", "money", "percent", "age", "measure", "score", "clause"
]
Kind = Literal["yesno", "choice", "factoid", "why", "how", "open"]

_AUXILIARY = re.compile(
    r"^(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|may|might|must)\b", re.I
)
_PREAMBLE = re.compile(r"^\s*(according to|as reported by|per|based on)\b[^,]{1,80},\s*", re.I)
_TRAILER = re.compile(r",?\s*(according to|as reported by)\s+[^,?]{1,80}(?=\?|$)", re.I)
_MONEY_CUE = re.compile(
    r"\b(cost|costs|pay|paid|price|priced|worth|charge|charges|charged|revenue|raise|raised|earn|earned|fine|"
    r"fined|spend|spent|fee|fees|salary|budget|valuation|valued|sell|sold for|dollars?|euros?|pounds?)\b",
    re.I,
)
_TYPE_NOUNS: list[tuple[AnswerType, re.Pattern[str]]] = [
    ("date", re.compile(r"^(date|day|year|month|time|week)\b", re.I)),
    (
        "place",
        re.compile(r"^(city|country|town|state|venue|stadium|place|location|region|county|nation)\b", re.I),
    ),
    ("score", re.compile(r"^(score|result|scoreline|vote|votes|tally|record)\b", re.I)),
    ("percent", re.compile(r"^(percentage|percent|share|margin|rate)\b", re.I)),
    ("money", re.compile(r"^(price|amount|fee|sum|salary|valuation|cost|fine)\b", re.I)),
    (
        "number",
        re.compile(
            r"^(number|total|count|rank|ranking|seed|minute|viewership|attendance|population)\b", re.I
        ),
    ),
    ("age", re.compile(r"^age\b", re.I)),
    (
        "person",
        re.compile(
            r"^(player|coach|manager|person|man|woman|actor|actress|singer|artist|author|executive|ceo|founder|"
            r"chair|chairman|president|minister|director|driver|rapper|pundit|judge|officer|leader|striker|"
            r"quarterback|goalkeeper|star|designer|scientist|researcher|rider|captain|pitcher|hostage|victim|"
            r"suspect|girl|boy|child|chief|owner|winner|scorer|candidate|politician|reporter|writer|host|"
            r"spokesperson|spokesman|spokeswoman|founder|investor|lawyer|teammate|footballer|cricketer|boxer)\b",
            re.I,
        ),
    ),
]
_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b")
# ", was there ...", ", is the portrayal ...", ", did the reporting ...": a yes/no clause after a framing phrase.
_FRAMED_YES_NO = re.compile(
    r",\s+(?=(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\s+"
    r"(?:there|the|it|this|that|these|those|they|he|she|his|her|their|its|both|any|all)\b)"
)
_PART_SPLIT = re.compile(
    r",?\s+(?:and|but)\s+(?=(?:(?:in|on|at|by|for|from|to|during)\s+)?"
    r"(?:who|what|which|when|where|why|how|did|does|do|is|are|was|were|has|have)\b)",
    re.I,
)


@dataclass(frozen=True)
class QuestionShape:
    text: str  # the question without an outlet preamble
    kind: Kind
    expects: tuple[AnswerType, ...]  # phrase types that answer it, best first; empty for yes/no, why and how
    counted: str = ""  # "how many goals" → "goals": the unit a count answer should carry
    options: tuple[str, ...] = ()  # a choice question's alternatives ("consistent or inconsistent")
    parts: tuple[str, ...] = field(default_factory=tuple)  # sub-questions of a two-part question
    # Words of the question's frame that the answer sentence need not repeat: "how far" is answered by "74km away".
    frame: tuple[str, ...] = ()


def read_question(question: str) -> QuestionShape:
    text = _TRAILER.sub("", _PREAMBLE.sub("", question.strip())).strip()
    parts = tuple(p.strip(" ,?") for p in _PART_SPLIT.split(text) if p.strip(" ,?"))
    shape = _shape(text)
    if len(parts) > 1:
        return QuestionShape(shape.text, shape.kind, shape.expects, shape.counted, shape.options, parts)
    return shape


def _shape(text: str) -> QuestionShape:
    lowered = re.sub(r"\b(what|who|where|when|how)['’]s\b", r"\1 is", text.lower().lstrip("¿ "))
    # A question that opens with an auxiliary is yes/no (or a choice) whatever wh-words its clauses hold ("Does the
    # article ... which discusses ...?"); so is one whose asking clause follows a framing phrase ("Between the
    # report ... and the report ..., was there a change ...?").
    framed = _FRAMED_YES_NO.search(lowered)
    if not _AUXILIARY.match(lowered) and framed and not _WH.search(lowered[: framed.start()]):
        lowered = lowered[framed.start() + 1 :].lstrip()
    if _AUXILIARY.match(lowered):
        return _yes_no(text, lowered)
    # The asking clause is the last sentence ("Manchester United ... crashed out. Who beat each of them?") and
    # starts at its wh-word ("Roughly how many ...", "... on Tuesday — by what date ...").
    segments = re.split(r"(?<=[.!])\s+|\s+[—–-]\s+", lowered)
    asking = [
        s for s in segments if _AUXILIARY.match(s) or re.search(r"\b(who|what|which|when|where|why|how)\b", s)
    ]
    lowered = asking[-1] if asking else lowered
    if not _AUXILIARY.match(lowered):
        wh = re.search(r"\b(who|whom|whose|what|which|when|where|why|how)\b", lowered)
        if wh:
            lowered = lowered[wh.start() :]
    if _AUXILIARY.match(lowered):
        return _yes_no(text, lowered)
    if lowered.startswith("why") or re.match(r"^(what|which) (was|is|were|are) the reasons?\b", lowered):
        return QuestionShape(text, "why", ())
    match = re.match(
        r"^how (many|much|old|long|tall|high|far|big|large|fast|often)\b\s*([\w-]*(?:\s+[\w-]+){0,2})",
        lowered,
    )
    if match:
        # "how many neural engines does": the counted noun runs to the verb.
        word, noun = match.group(1), " ".join(_until_verb(match.group(2).split()))
        frame = (word,)
        if word == "many":
            return QuestionShape(text, "factoid", ("number",), counted=noun, frame=frame)
        if word == "much":
            money = bool(_MONEY_CUE.search(lowered)) or noun in {"money", "cash"}
            expects: tuple[AnswerType, ...] = ("money", "number") if money else ("number", "money", "percent")
            return QuestionShape(text, "factoid", expects, frame=frame)
        if word == "old":
            return QuestionShape(text, "factoid", ("age",), frame=frame)
        if word in ("big", "large", "often"):
            return QuestionShape(text, "factoid", ("measure", "money", "number"), frame=frame)
        # tall, high, far, long, fast: only a measure with its unit answers ("6 ft 5", "74km"), not any number.
        return QuestionShape(text, "factoid", ("measure",), frame=frame)
    if lowered.startswith("how"):
        return QuestionShape(text, "how", ())
    if re.match(r"^(who|whom|whose)\b", lowered):
        return QuestionShape(text, "factoid", ("person", "name"))
    if lowered.startswith("when"):
        return QuestionShape(text, "factoid", ("date",))
    if lowered.startswith("where"):
        return QuestionShape(text, "factoid", ("place", "name"))
    match = re.match(
        r"^(?:what|which)(?:\s+(?:is|was|were|are))?\s+(?:the\s+)?(?:name of the\s+)?"
        r"((?:\w+\s+){0,2}\w+)",
        lowered,
    )
    if match:
        for noun in match.group(1).split():
            for answer_type, pattern in _TYPE_NOUNS:
                if pattern.match(noun):
                    typed: tuple[AnswerType, ...] = (
                        (answer_type, "name") if answer_type == "person" else (answer_type,)
                    )
                    # "In what minute": the number comes with its noun ("27th minute").
                    counted = noun if answer_type == "number" and noun == "minute" else ""
                    return QuestionShape(text, "factoid", typed, counted=counted)
        if re.match(r"^what (did|does|do|will|would|has|had)\b.*\b(do|doing|done)\b", lowered):
            return QuestionShape(text, "open", ())
        return QuestionShape(text, "factoid", ("name", "number", "money", "clause"))
    if re.match(r"^(in|on|at|for|by|from|to) (what|which)\b", lowered):
        return _shape(re.sub(r"^\w+ ", "", text))
    return QuestionShape(text, "open", ())


AUXILIARIES = frozenset(
    {"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "will", "would", "can", "could"}
)
_VERBS = AUXILIARIES | {"should", "may", "might", "be", "been", "got", "get"}


def _until_verb(words: list[str]) -> list[str]:
    taken: list[str] = []
    for word in words:
        if word in _VERBS:
            break
        taken.append(word)
    return taken


def _yes_no(text: str, lowered: str) -> QuestionShape:
    choice = re.search(r"\b(\w+(?:\s\w+)?)\s+or\s+(\w+(?:\s\w+)?)\s*\??\s*(?:\(.*\))?\s*$", lowered)
    if choice and not re.search(r"\bor not\b", lowered):
        return QuestionShape(text, "choice", (), options=(choice.group(1), choice.group(2)))
    return QuestionShape(text, "yesno", ())


def part_shapes(shape: QuestionShape) -> list[QuestionShape]:
    """The parts of a two-part question, each typed on its own; a later part that leaves its subject to the first
    ("..., and when?", "... and who led the team that described it?") carries the first part's words too."""
    shapes: list[QuestionShape] = []
    for n, part in enumerate(shape.parts):
        own = read_question(part)
        if n == 0 or len(content_terms(part)) >= 2:
            shapes.append(own)
            continue
        subject = re.sub(r"^\W*\w+\s+", "", shape.parts[0])  # the first part without its wh-word
        shapes.append(
            QuestionShape(
                f"{part} ({subject})", own.kind, own.expects, own.counted, own.options, (), own.frame
            )
        )
    return shapes
