"""Which passage sentences can answer a question: not headlines, datelines, bylines, photo captions, odds lines or
promotions. News pages carry all of these between the reporting, and an extract of one reads as an answer while
saying nothing ("Platinum Performance: Travis Kelce to Score 3+ TDs (+2500)")."""

from __future__ import annotations

import re

from rag.text import content_terms

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


def not_an_answer_sentence(text: str, title: str = "") -> bool:
    """True for a headline (the title again, or a title-case line without a full stop), a dateline, byline, caption,
    odds line or promotion."""
    stripped = text.strip()
    if (
        _BYLINE.search(stripped)
        or _PROMO.search(stripped)
        or _ODDS.search(stripped)
        or _DATELINE.match(stripped)
    ):
        return True
    return headline_like(stripped, title)


def headline_like(text: str, title: str = "") -> bool:
    """The article's title repeated, or a line that reads as a headline: no closing punctuation and most words
    capitalised."""
    terms = content_terms(text)
    if title and terms:
        title_terms = set(content_terms(title))
        if title_terms and len(set(terms) & title_terms) >= 0.8 * max(len(set(terms)), len(title_terms)):
            return True
    if re.search(r"[.!?][\"'”’)\]]*$", text):
        return False
    words = re.findall(r"[A-Za-z][\w'’-]*", text)
    capitalised = sum(w[0].isupper() for w in words)
    return len(words) >= 3 and capitalised >= 0.6 * len(words)
