"""Query understanding without a model: outlets and dates named in a question.

- Outlets: any source name present in the corpus metadata, matched case-sensitively as a phrase (with or without a
  leading "The"), e.g. "as reported by TechCrunch", "'The Verge' claims".
- Dates are soft: each becomes a published-at window that retrieval searches in addition to the whole store (a
  question may compare a dated report with another), never a hard filter. Calendar dates ("on October 5, 2023",
  "2023-10-05", "in October") count only after a publication word ("the report by X on ...", "articles published in
  ..."), since otherwise they usually date an event; relative ranges ("since Tuesday", "last week", "this month",
  "past 3 days", "yesterday") always count, resolved against ``as_of`` (default: now). Explicit API filters are hard.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MONTHS = {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name
}  # keyed by first three letters
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
MDY_DATE = re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)
DMY_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?(?:,?\s+(\d{{4}}))?\b", re.I)
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_IN_MONTH = re.compile(
    rf"\b(?:in|during|throughout)\s+(?:early\s+|late\s+|mid-?)?{_MONTH}(?:\s+(\d{{4}}))?\b", re.I
)
_SINCE_WEEKDAY = re.compile(
    r"\bsince\s+(?:last\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I
)
_PAST_N = re.compile(r"\b(?:past|last)\s+(\d{1,3})\s+(day|week|month)s?\b", re.I)
# A calendar date is read as a publication date only when a word like these comes shortly before it ("the report
# by X on October 1", "an article published in October"); otherwise it likely dates an event ("cases in September").
_PUBLICATION_CUE = re.compile(
    r"\b(published|publish|reported|report|reports|reporting|article|articles|story|stories|"
    r"news|wrote|written|posted|coverage|edition|issue)\b",
    re.I,
)
CUE_WINDOW = 60
_RECENT_DAYS = {"last week": 7, "past week": 7, "last month": 31, "past month": 31}


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


@dataclass
class QueryAnalysis:
    sources: list[str] = field(default_factory=list)
    days: list[Window] = field(default_factory=list)
    range: Window | None = None
    topic: str = ""  # the question without the outlet names and dates it mentions: what to search for


def _day(year: int, month: int, day: int) -> Window | None:
    try:
        start = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
    return Window(start, start + timedelta(days=1) - timedelta(microseconds=1))


def _month(year: int, month: int) -> Window:
    start = datetime(year, month, 1, tzinfo=UTC)
    last = calendar.monthrange(year, month)[1]
    return Window(start, datetime(year, month, last, 23, 59, 59, 999999, tzinfo=UTC))


def _year_for(month: int, as_of: datetime) -> int:
    # "in October" means the most recent October not after as_of.
    return as_of.year if month <= as_of.month else as_of.year - 1


def source_pattern(sources: Iterable[str]) -> re.Pattern[str] | None:
    variants: dict[str, str] = {}
    for source in sources:
        name = source.strip()
        if not name:
            continue
        variants[name] = source
        core = re.sub(r"^the\s+", "", name, flags=re.I)
        if core != name and len(core) > 3:
            variants[core] = source
    if not variants:
        return None
    alternatives = sorted(variants, key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(v) for v in alternatives) + r")(?![\w])")


def analyze(question: str, sources: Iterable[str], as_of: datetime | None = None) -> QueryAnalysis:
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    analysis = QueryAnalysis()
    known = list(sources)
    pattern = source_pattern(known)
    if pattern is not None:
        lookup = {v.lower(): s for s in known for v in (s, re.sub(r"^the\s+", "", s, flags=re.I))}
        for match in pattern.finditer(question):
            source = lookup[match.group(1).lower()]
            if source not in analysis.sources:
                analysis.sources.append(source)
    analysis.days = _point_dates(question, as_of)
    analysis.range = _range(question, as_of)
    topic = pattern.sub(" ", question) if pattern is not None and analysis.sources else question
    for date_pattern in (MDY_DATE, DMY_DATE, ISO_DATE):
        topic = date_pattern.sub(" ", topic)
    analysis.topic = " ".join(topic.split())
    return analysis


def _cued(question: str, start: int) -> bool:
    return _PUBLICATION_CUE.search(question[max(0, start - CUE_WINDOW) : start]) is not None


def _point_dates(question: str, as_of: datetime) -> list[Window]:
    days: list[Window | None] = []
    # (pattern, group of the year, of the month, of the day)
    for pattern, year_group, month_group, day_group in (
        (MDY_DATE, 3, 1, 2),
        (DMY_DATE, 3, 2, 1),
        (ISO_DATE, 1, 2, 3),
    ):
        for m in pattern.finditer(question):
            if not _cued(question, m.start()):
                continue
            month_text = m.group(month_group)
            month = int(month_text) if month_text.isdigit() else MONTHS[month_text.lower()[:3]]
            year = int(m.group(year_group)) if m.group(year_group) else _year_for(month, as_of)
            days.append(_day(year, month, int(m.group(day_group))))
    lowered = question.lower()
    for word, back in (("today", 0), ("yesterday", 1)):
        if re.search(rf"\b{word}\b", lowered):
            d = as_of - timedelta(days=back)
            days.append(_day(d.year, d.month, d.day))
    unique: list[Window] = []
    for window in days:
        if window is not None and window not in unique:
            unique.append(window)
    return unique


def _range(question: str, as_of: datetime) -> Window | None:
    lowered = question.lower()
    end_of_today = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, 999999, tzinfo=UTC)
    start_of_today = end_of_today.replace(hour=0, minute=0, second=0, microsecond=0)
    if m := _SINCE_WEEKDAY.search(question):
        back = (as_of.weekday() - WEEKDAYS[m.group(1).lower()]) % 7 or 7
        return Window(start_of_today - timedelta(days=back), end_of_today)
    if m := _PAST_N.search(question):
        n, unit = int(m.group(1)), m.group(2).lower()
        days = n * {"day": 1, "week": 7, "month": 31}[unit]
        return Window(start_of_today - timedelta(days=days), end_of_today)
    if (m := _IN_MONTH.search(question)) and _cued(question, m.start()):
        month = MONTHS[m.group(1).lower()[:3]]
        year = int(m.group(2)) if m.group(2) else _year_for(month, as_of)
        return _month(year, month)
    if re.search(r"\bthis week\b", lowered):
        return Window(start_of_today - timedelta(days=as_of.weekday()), end_of_today)
    if re.search(r"\bthis month\b", lowered):
        return Window(start_of_today.replace(day=1), end_of_today)
    for phrase, days_back in _RECENT_DAYS.items():
        if re.search(rf"\b{phrase}\b", lowered):
            return Window(start_of_today - timedelta(days=days_back), end_of_today)
    return None
