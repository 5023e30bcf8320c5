"""Plain-text helpers shared by the writer and the verifier: sentences with offsets, content terms, numbers, and
``is_headline_like``, the one test of whether a "sentence" is a headline (never an answer or summary sentence)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import Stemmer

_STEMMER = Stemmer.Stemmer("english")

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "said",
        "says",
        "according",
        "reported",
        "report",
        "reports",
        "article",
        "news",
    ]
)

# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "gen",
        "col",
        "lt",
        "sgt",
        "rep",
        "sen",
        "gov",
        "inc",
        "ltd",
        "co",
        "corp",
        "vs",
        "etc",
        "no",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
    ]
)
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+|$)")
_WORD = re.compile(r"[A-Za-z0-9]+(?:[.'’][A-Za-z0-9]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int


def split_sentences(text: str, base: int = 0) -> list[Span]:
    """Sentences of ``text`` with offsets (plus ``base``) such that ``text[start-base:end-base] == span.text``."""
    spans: list[Span] = []
    for block_match in re.finditer(r"[^\n]+", text):
        block, offset = block_match.group(), block_match.start()
        start = 0
        for match in _SENTENCE_END.finditer(block):
            end = match.end()
            before = block[start : match.start()].split()
            last_word = before[-1].lower().rstrip(".") if before else ""
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                continue
            _append(spans, block, start, end, offset + base)
            start = end
        _append(spans, block, start, len(block), offset + base)
    return spans


def _append(spans: list[Span], block: str, start: int, end: int, base: int) -> None:
    piece = block[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    spans.append(Span(stripped, base + start + lead, base + start + lead + len(stripped)))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def content_terms(text: str) -> list[str]:
    """Stemmed, lower-cased words without stopwords: what two texts must share to say the same thing."""
    return [_stem(w) for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence: a cheap proxy for named entities."""
    found: set[str] = set()
    for sentence in split_sentences(text):
        tokens = _WORD.findall(sentence.text)
        for token in tokens[1:]:
            if token[0].isupper() and token.lower() not in STOPWORDS:
                # Normalised as ``words`` does, so "Google’s" in a sentence matches "Google’s" in its evidence.
                found.add(token.lower().replace("’", "'"))
    return found


# A headline repeated in the body may differ from the title in a word or its punctuation ("Ferry deal ratified" /
# "Ferry Deal Is Ratified"); word sequences this similar (difflib ratio) are the same headline.
HEADLINE_SIMILARITY = 0.85
MIN_TITLE_CASE_WORDS = 3
TITLE_CASE_SHARE = (
    0.8  # share of a line's content words that start with a capital or digit ("iPhone" does not)
)
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")


def is_headline_like(sentence: str, title: str = "", line: str | None = None) -> bool:
    """Whether ``sentence`` is a headline rather than reporting, so never an answer or summary sentence.

    True when it is the article's ``title`` again (the same words, or nearly: ``HEADLINE_SIMILARITY``), a run of the
    title's words without terminal punctuation (the title minus a " | Outlet" suffix), or a title-case line without
    terminal punctuation ("Ukraine Withdraws Troops from Kharkiv Villages Amid Russian Pressure"), which must stand
    alone on its line: pass that ``line`` (``line_around``) when you have it; without it the sentence is taken to be
    its own line (a split sentence without terminal punctuation is always the end of its line).
    """
    said = [w for w in words(sentence) if w]
    if not said:
        return False
    stated = _TERMINAL.search(sentence.strip()) is not None
    headline = words(title)
    if headline:
        if SequenceMatcher(None, said, headline, autojunk=False).ratio() >= HEADLINE_SIMILARITY:
            return True
        if not stated and len(said) >= MIN_TITLE_CASE_WORDS and _contains_run(headline, said):
            return True
    if stated or (line is not None and line.strip() != sentence.strip()):
        return False
    significant = [w for w in _WORD.findall(sentence) if w.lower() not in STOPWORDS]
    if len(significant) < MIN_TITLE_CASE_WORDS:
        return False
    capitalised = sum(1 for w in significant if w[0].isupper() or w[0].isdigit())
    return capitalised / len(significant) >= TITLE_CASE_SHARE


def line_around(text: str, start: int, end: int) -> str:
    """The whole line of ``text`` that holds ``text[start:end]`` (for ``is_headline_like``'s ``line``)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return text[line_start : line_end if line_end != -1 else len(text)]


def _contains_run(whole: list[str], part: list[str]) -> bool:
    return any(whole[i : i + len(part)] == part for i in range(len(whole) - len(part) + 1))
