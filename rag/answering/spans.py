"""Phrases of a given answer type inside a sentence, with their offsets: the candidates for a short answer.

Patterns, not a tagger: money ("€9.99", "$1.35 billion", "£47.2m"), percentages ("29%", "1.87 per cent"), counts
with their unit ("84 goals", "1.1 million", "157,000"), ages, measures, scores ("40-6", "3-1"), dates ("October 3",
"February 2024", "2007", "on Tuesday"), and names: runs of capitalised words, allowing the small joining words of
names ("Bank of America", "Citrin Cooperman", "Uxbridge, Ontario"). Quoted titles count as names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answering.question import AnswerType

_SCALE = r"(?:\s?(?:million|billion|trillion|thousand|bn|m|k)\b)?"
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
_MONEY = re.compile(
    rf"(?:(?:US|A|AU|C|NZ)?[$€£¥]\s?{_AMOUNT}{_SCALE}|{_AMOUNT}{_SCALE}\s(?:dollars|euros|pounds|yen|USD|EUR|GBP)\b)"
)
_PERCENT = re.compile(rf"{_AMOUNT}\s?(?:%|per\s?cent\b|percent\b|percentage points?\b)")
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|dozens?|hundreds|thousands|millions)"
)
_COUNT = re.compile(
    rf"(?<![\w.])(?:{_AMOUNT}(?:st|nd|rd|th)?{_SCALE}|{_NUMBER_WORDS}(?:[- ]{_NUMBER_WORDS})?)"
    r"(?:[- ](?:[a-z]+(?:-[a-z]+)*))?(?:\s[a-z]+(?:-[a-z]+)*){0,2}",
    re.I,
)
_SCORE = re.compile(r"(?<![\w.])(?:\d{1,3}\s?[-–]\s?\d{1,3}(?![\w%]|\.\d)|\d[\d,]*\s+votes?\s+to\s+\d[\d,]*)")
_AGE = re.compile(
    r"(?<![\w.])(\d{1,3})(?:-year-old|\s+years?\s+old|\s+years?\s+of\s+age)|(?<=, )\d{1,3}(?=,)"
)
_MEASURE = re.compile(
    rf"{_AMOUNT}\s?(?:-|\s)?(?:feet|foot|ft|inches|inch|in\.|metres|meters|m|cm|km|miles|mph|km/h|kg|pounds|lbs|"
    r"square (?:meters|metres|feet)|acres|hectares|tonnes|tons|minutes|hours|days|weeks|months|years)\b"
    r"(?:\s\d{1,2}(?:\s?(?:inches|in))?)?",
    re.I,
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE = re.compile(
    # A weekday before a full date belongs to it ("Friday, September 11, 2026"), not a phrase of its own.
    rf"(?:(?:{_WEEKDAY},?\s+)?{_MONTH}\.?\s+\d{{1,2}}(?!\d)(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|(?:early |late |mid-)?{_MONTH}(?:\s+(?:of\s+)?\d{{4}})?"
    rf"|{_WEEKDAY}"
    r"|(?<![\w$€£.,])(?:19|20)\d{2}(?![\w%,.]\d))"
)
# A run of capitalised words (a name), allowing joining words and initials inside it.
_NAME = re.compile(
    r"(?<![\w'’-])(?:[A-Z][\w'’.&-]*|[A-Z]{2,}|\d+(?:st|nd|rd|th))(?:(?:\s+(?:of|de|da|di|van|von|der|del|la|le|al|bin|the|and|&|"
    r"for|on)\s+|\s+|,\s(?=[A-Z][a-z]+(?:$|[.;:,]|\s(?:on|in|at|and)\b)))(?:[A-Z][\w'’.&-]*|[A-Z]{2,}|\d+(?:st|nd|rd|th)))*"
)
# What something is called: "named Lampronyx ellorensis", "a feature called Teen Safety Assist".
_CALLED = re.compile(
    r"\b(?:named|called|dubbed|titled|known as)\s+[\"“‘']?"
    r"([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,5}(?:\s+[a-z][\w'’-]*(?=[,.;:)]))?)"
)
_QUOTED = re.compile(r"[\"“‘']([A-Z][^\"”’']{2,80})[\"”’']")
# Capitalised words that are not names on their own at a sentence start or as a lone word.
_NOT_NAME_WORDS = (
    "the a an and but or in on at for to of by with from as it he she they we i his her their its this "
    "that these those there here after before when while if then so yet also however meanwhile still now "
    "today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday mr mrs ms dr "
    "photo image getty january february march april may june july august september october november "
    "december beyond unlike despite although though because since during under over without across among amid "
    "like unless whether once until following according as per including "
)
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


# Words that mark a name as an organisation, place or event rather than a person ("League A1", "Rentschler Field").
_NOT_A_PERSON = re.compile(
    r"\b(League|Cup|Club|FC|University|College|School|Party|Council|Inc|Corp|Ltd|Group|Company|Association|"
    r"Ministry|Department|Stadium|Park|Arena|Field|Championship|Series|Games?|World|Festival|Awards?|Prize|Act|"
    r"Court|Commission|Committee|Bank|Fund|Times|News|Post|Journal|Street|Road|Airport|Island|Museum|Institute|"
    r"Foundation|Agency|Board|Office|Federation|Union|Network|Studios?|Records|Capital|Partners|Labs?|"
    r"Hills?|River|Lake|Bay|Valley|Caves?|Coast|County|City|Mount|Beach|Harbou?r|Port|Square|Hall|Cent(?:re|er)|"
    r"Bridge)\b|\d"
)


def person_like(text: str) -> bool:
    """A name that could be a person's: no organisation, place or event word and no digits."""
    return _NOT_A_PERSON.search(text) is None


@dataclass(frozen=True)
class Phrase:
    text: str
    start: int  # offsets in the sentence
    end: int
    type: AnswerType


def find_phrases(sentence: str, answer_type: AnswerType, counted: str = "") -> list[Phrase]:
    """Every phrase of ``answer_type`` in ``sentence`` (``counted``: the unit a count should carry)."""
    if answer_type == "money":
        return _all(_MONEY, sentence, answer_type)
    if answer_type == "percent":
        return _all(_PERCENT, sentence, answer_type)
    if answer_type == "score":
        return _all(_SCORE, sentence, answer_type)
    if answer_type == "date":
        return _all(_DATE, sentence, answer_type)
    if answer_type == "measure":
        return _all(_MEASURE, sentence, answer_type)
    if answer_type == "age":
        return _all(_AGE, sentence, answer_type)
    if answer_type == "number":
        return _counts(sentence, counted)
    if answer_type in ("name", "person", "place"):
        return _names(sentence, answer_type)
    return []


def _all(pattern: re.Pattern[str], sentence: str, answer_type: AnswerType) -> list[Phrase]:
    phrases = []
    for match in pattern.finditer(sentence):
        text = match.group(0).rstrip(" ,.;:")
        start = match.start() + len(text) - len(text.lstrip())
        if text.strip():
            phrases.append(Phrase(text.strip(), start, start + len(text.strip()), answer_type))
    return phrases


def _counts(sentence: str, counted: str) -> list[Phrase]:
    """Numbers, each with the unit word after it when it is the counted noun ("84 goals"), else the bare number."""
    found: list[Phrase] = []
    units = [word.rstrip("s")[:5] for word in counted.lower().split()]
    for match in _COUNT.finditer(sentence):
        text = match.group(0)
        words = text.split()
        # Keep "1.1 million", "3.67 times", "84 goals", "four neural engines" (the counted noun's words); drop an
        # unrelated word after the number.
        keep = 1
        for i, word in enumerate(words[1:], start=1):
            bare = word.lower().strip(",.")
            if bare in {"million", "billion", "thousand", "trillion", "times"} or any(
                bare.rstrip("s").startswith(unit) for unit in units if unit
            ):
                keep = i + 1
            else:
                break
        text = " ".join(words[:keep]).rstrip(",.;:")
        if re.search(r"\d", text) or re.match(_NUMBER_WORDS, text, re.I):
            found.append(Phrase(text, match.start(), match.start() + len(text), "number"))
    return found


def _names(sentence: str, answer_type: AnswerType) -> list[Phrase]:
    phrases: list[Phrase] = []
    for match in _NAME.finditer(sentence):
        text, start = match.group(0), match.start()
        words = text.split()
        # Drop sentence-opening and joining words at either edge ("The", "After", "and").
        while words and words[0].lower().strip(",") in _NOT_NAMES:
            start += len(words[0]) + 1
            words = words[1:]
        while words and words[-1].lower().strip(",.;:") in _NOT_NAMES:
            words = words[:-1]
        if not words or re.fullmatch(r"\d+(?:st|nd|rd|th)", words[0]):
            continue
        text = re.sub(r"['’]s?$", "", " ".join(words).rstrip(",."))
        start = sentence.find(text, start)
        if start >= 0 and text:
            phrases.append(Phrase(text, start, start + len(text), answer_type))
    for match in _CALLED.finditer(sentence):
        phrases.append(
            Phrase(
                match.group(1).strip(),
                match.start(1),
                match.start(1) + len(match.group(1).strip()),
                answer_type,
            )
        )
    for match in _QUOTED.finditer(sentence):
        phrases.append(Phrase(match.group(1).strip(), match.start(1), match.end(1), answer_type))
    return phrases
