"""Title, body and section label of a plain-text article.

A .txt file's first line is its title, unless it is a section label or kicker set above the headline, as copied
news pages often are: "News|Top Story", a blank line, then the headline. Such label lines are skipped (and kept as
the article's ``category``) when a headline-like line and some body follow them; the headline is the title and never
the body's first "sentence". A label is a line of short parts joined by ``|``, ``›``, ``»`` or ``>`` (a long part
makes it a headline with a site suffix: "Stocks rally as rates hold | Valley Wire"), a short all-capitals line
("BREAKING NEWS"), or a line of section and kicker words ("World", "Top Story", "Exclusive:").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LABEL_WORDS = 4  # per part of a label; "Top Story", "Business Live"
MAX_HEADLINE_WORDS = 30
MAX_LABEL_LINES = 3  # label lines looked at above the headline
LABEL_SEPARATORS = re.compile(r"\s*[|›»>]\s*")
SECTION_WORDS = frozenset(
    [
        "news",
        "top",
        "story",
        "stories",
        "breaking",
        "latest",
        "live",
        "update",
        "updates",
        "exclusive",
        "analysis",
        "opinion",
        "comment",
        "editorial",
        "feature",
        "features",
        "world",
        "national",
        "local",
        "international",
        "politics",
        "business",
        "economy",
        "markets",
        "finance",
        "money",
        "tech",
        "technology",
        "science",
        "health",
        "sport",
        "sports",
        "culture",
        "arts",
        "entertainment",
        "lifestyle",
        "travel",
        "weather",
        "video",
        "photos",
        "investigation",
        "special",
        "report",
        "us",
        "uk",
        "europe",
        "asia",
        "africa",
        "americas",
        "middle",
        "east",
        "home",
    ]
)
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


@dataclass(frozen=True)
class PlainArticle:
    title: str
    body: str
    category: str  # the section label(s) above the headline, ", "-joined; "" when there were none


def split_plain_text(text: str) -> PlainArticle:
    lines = text.strip().splitlines()
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return PlainArticle("", "", "")
    labels: list[str] = []
    title_at = filled[0]
    for pos, index in enumerate(filled[: MAX_LABEL_LINES + 1]):
        line = lines[index].strip()
        # A label needs a headline after it and some body after that; otherwise this line is the title.
        if pos + 2 >= len(filled) or not _reads_like_headline(lines[filled[pos + 1]]):
            title_at = index
            break
        if not _is_label(line) or pos == MAX_LABEL_LINES:
            title_at = index
            break
        labels.append(line)
    title = lines[title_at].strip()
    rest = lines[title_at + 1 :]
    first_body = next((i for i, line in enumerate(rest) if line.strip()), None)
    if first_body is not None and _same_words(rest[first_body], title):
        rest = rest[first_body + 1 :]  # the headline repeated as the body's first line
    category = ", ".join(part for label in labels for part in LABEL_SEPARATORS.split(label) if part)
    return PlainArticle(title, "\n".join(rest).strip(), category)


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def _reads_like_headline(line: str) -> bool:
    line = line.strip()
    return 0 < len(_words(line)) <= MAX_HEADLINE_WORDS and not line.endswith((".", ",", ";", ":"))


def _is_label(line: str) -> bool:
    words = _words(line)
    if not words or len(words) > MAX_LABEL_WORDS * 3:
        return False
    parts = [p for p in LABEL_SEPARATORS.split(line) if p]
    if len(parts) > 1:
        return all(len(_words(p)) <= MAX_LABEL_WORDS for p in parts)
    if len(words) <= MAX_LABEL_WORDS and line.upper() == line and any(c.isalpha() for c in line):
        return True
    return len(words) <= MAX_LABEL_WORDS and all(w.lower() in SECTION_WORDS for w in words)


def _same_words(a: str, b: str) -> bool:
    return [w.lower() for w in _words(a)] == [w.lower() for w in _words(b)]
