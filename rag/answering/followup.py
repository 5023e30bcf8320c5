"""Rule-based follow-up rewriting for chat: no model, no network.

A follow-up ("and what did Valley Wire say about it?", "how many homes?", "what about the flood wall?") does not name
what it is about, so searching its words alone finds the wrong passages. When a message looks like one, a standalone
retrieval query is built from the message, the previous turn's (already standalone) query and the names the previous
answer mentioned. The user's own words are always searched as well, and the rankings are fused
(``rag.pipeline.search_many``), so a message wrongly taken for a follow-up still finds what it names.

This is the default for every writer. A model writer could rewrite better; that would be a second rewriter behind
the same ``retrieval_queries`` function, not a replacement for this one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rag.retrieval.query import source_pattern
from rag.text import STOPWORDS, words

# Pronouns and deictics that point back at something said before.
REFERRING_WORDS = frozenset(
    {"it", "its", "they", "them", "their", "theirs", "that", "this", "those", "these"}
    | {"he", "him", "his", "she", "her", "hers", "there", "then", "same"}
)
# Elliptical openings: the message continues the previous question rather than asking a new one.
ELLIPTICAL_OPENING = re.compile(
    r"^\s*(and|but|also|so|what about|how about|what else|anything else|same for|and what about)\b", re.I
)
# A question with this many content words or fewer ("How many homes?", "Why?") leans on the conversation.
SHORT_QUESTION_WORDS = 3
MAX_ANSWER_TERMS = 4
# Chained follow-ups carry their predecessors' context: keep the most recent part, so the query stays focused.
MAX_CARRIED_WORDS = 30
# Calendar words are capitalised but name no subject ("on Friday, September 11"): not carried as context.
CALENDAR_WORDS = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "yesterday"}
    | {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october"}
    | {"november", "december", "tomorrow"}
)
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:of\s+)?[A-Z][\w'’-]*)*")
_MARKERS = re.compile(r"\s*\[(\d{1,3}|unverified)\]")


@dataclass(frozen=True)
class PreviousTurn:
    """What the rewriter needs of the last turn."""

    query: str  # the standalone query the turn was resolved to (its message when it was not a follow-up)
    answer: str  # the answer text; empty when the turn found no answer
    answered: bool = True


def is_follow_up(message: str) -> bool:
    tokens = words(message)
    if not tokens:
        return False
    if ELLIPTICAL_OPENING.match(message):
        return True
    if any(token in REFERRING_WORDS for token in tokens):
        return True
    content = [t for t in tokens if t not in STOPWORDS]
    return len(content) <= SHORT_QUESTION_WORDS


def answer_terms(answer: str, limit: int = MAX_ANSWER_TERMS) -> list[str]:
    """The names an answer mentions, most frequent first (then in order of appearance)."""
    text = _MARKERS.sub("", answer)
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for match in _NAME.finditer(text):
        name = match.group(0)
        # A capitalised stopword opening a sentence ("The", "In") is not a name.
        parts = [p for p in name.split() if p.lower() not in CALENDAR_WORDS]
        while parts and parts[0].lower() in STOPWORDS:
            parts = parts[1:]
        if not parts:
            continue
        name = " ".join(parts)
        counts[name] += 1
        first_seen.setdefault(name, match.start())
    ranked = sorted(counts, key=lambda name: (-counts[name], first_seen[name]))
    return ranked[:limit]


def standalone_query(message: str, previous: PreviousTurn, sources: Iterable[str] = ()) -> str:
    """The message followed by the context it leaves out: the previous query and the previous answer's names."""
    carried = " ".join(previous.query.split()[:MAX_CARRIED_WORDS])
    terms = answer_terms(previous.answer) if previous.answered else []
    outlets = source_pattern(sources)
    if outlets is not None and outlets.search(message):
        # "What did Valley Wire say?" after a question about another outlet: search the outlet the user named now.
        carried = outlets.sub(" ", carried)
        terms = [t for t in terms if not outlets.fullmatch(t)]
    said = set(words(f"{message} {carried}"))
    extra = [t for t in terms if not set(words(t)) <= said]
    return " ".join(" ".join([message.strip(), carried, *extra]).split())


def retrieval_queries(message: str, previous: PreviousTurn | None, sources: Iterable[str] = ()) -> list[str]:
    """What to search for a chat message: the standalone rewrite first (for a follow-up), and the message itself."""
    message = message.strip()
    if previous is None or not is_follow_up(message):
        return [message]
    rewritten = standalone_query(message, previous, sources)
    return [rewritten, message] if rewritten != message else [message]
