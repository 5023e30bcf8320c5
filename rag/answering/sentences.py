"""Which passage sentences can answer a question: not headlines, datelines, bylines, photo captions, odds lines or
promotions. News pages carry all of these between the reporting, and an extract of one reads as an answer while
saying nothing ("Platinum Performance: Travis Kelce to Score 3+ TDs (+2500)")."""

from __future__ import annotations

import re

from rag.text import is_headline_like

_BYLINE = re.compile(
    r"^(by|photo|photograph|image|video|credit|source|illustration|pictured|file photo|watch|listen|read more|"
    r"related|see also|advertisement|sponsored)\b[:\s]|\b(getty images|shutterstock|ap photo|afp via|reuters/|"
    r"photo by|image credit|courtesy of)\b",
    re.I,
)
_PROMO = re.compile(
    r"\b(sign up|subscribe|newsletter|click here|download the app|follow us|use (promo )?code|promo code|"
    r"bonus code|limited time|shop now|buy now|deal of the day|affiliate|commission)\b",
    re.I,
)
# Betting lines: American odds (+2500, -110), "3+ TDs", "o/u 45.5".
_ODDS = re.compile(
    r"(?<![\w.])[+-]\d{3,4}\b|\b\d\+ (tds?|touchdowns|goals|points)\b|\bo/u\b|\bover/under\b", re.I
)
_DATELINE = re.compile(r"^[A-Z][A-Z .,'-]{2,40}(\([\w .]+\))?\s*[—–-]\s*$")


def not_an_answer_sentence(text: str, title: str = "", line: str | None = None) -> bool:
    """True for a question, a headline (``rag.text.is_headline_like``: the title again, or a title-case line
    without a full stop; ``line``: the line the sentence stands on), a dateline, byline, caption, odds line or
    promotion."""
    stripped = text.strip()
    if re.search(r"\?[\"'”’)\]]*$", stripped):
        return True  # a question the article asks ("Will Alabama make the playoff?") states nothing
    if (
        _BYLINE.search(stripped)
        or _PROMO.search(stripped)
        or _ODDS.search(stripped)
        or _DATELINE.match(stripped)
    ):
        return True
    return is_headline_like(stripped, title, line)
