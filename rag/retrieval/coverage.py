"""What a question asks about that no article mentions: then the sources cannot hold the answer.

A capitalised word inside a question ("Who is Shubha Satheesh?", "... according to Cricbuzz") names someone or
something. When not one indexed chunk (title included) holds that word, nothing retrieved can be about it, however
similar the retrieved passages look, so the answer is ``insufficient_evidence`` and says which name is missing.

On MultiHop-RAG dev (609 articles) such a name occurs in 40 of the 90 null questions and in none of the 677
answerable ones. Only title-case words count (not acronyms like "CEO", which a corpus may spell out), and not the
first word of a sentence, month or weekday names, or words of the corpus's outlet names.

A question on another subject altogether ("What is the best recipe for sourdough bread?") has no unknown name, but
most of its words are unknown: at least half of its content words in no article also means no answer.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable

from rag.retrieval.rerank import FRAME_WORDS
from rag.storage.keyword import KeywordIndex, tokenize
from rag.text import STOPWORDS

# A title-case word that does not open a sentence (start of text, or after . ? ! and spaces/quotes).
_NAME = re.compile(r"(?<![\w'’-])[A-Z][a-z][\w'’-]*")
_SENTENCE_START = re.compile(r"(?:^|[.?!:]\s+)[\"'‘“(]*$")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Off the corpus's subjects: at least this share of a question's content words appear in no article. On MultiHop-RAG
# dev no question reaches 0.3 (answerable at most 0.09, null 0.14): the words a corpus lacks are usually a few
# paraphrases ("fraudulent"), while a question about another subject ("the best recipe for sourdough bread") lacks
# most of its words.
OFF_CORPUS_SHARE = 0.5
# ... and at least this many of them: on a one-article store a two-word question ("What did Zelensky do in
# response?") lacks one word of two without being off the subject.
OFF_CORPUS_MIN_WORDS = 2
_CALENDAR = frozenset(
    name.lower()
    for name in [*calendar.month_name, *calendar.month_abbr, *calendar.day_name, *calendar.day_abbr, "Sept"]
    if name
)


def _outlet_words(outlets: Iterable[str]) -> set[str]:
    return {w.lower() for outlet in outlets for w in re.findall(r"[^\W_]+", outlet)}


def question_names(question: str, outlets: Iterable[str]) -> list[str]:
    """Title-case words of the question that name something, outlet names excluded, in order, once each."""
    outlet_words = _outlet_words(outlets)
    names: list[str] = []
    for match in _NAME.finditer(question):
        if _SENTENCE_START.search(question[: match.start()]):
            continue
        for word in re.findall(r"[^\W_]+", match.group(0)):
            lowered = word.lower()
            if lowered in outlet_words or lowered in _CALENDAR:
                continue
            if word[:1].isupper() and word not in names:
                names.append(word)
    return names


def unknown_names(question: str, outlets: Iterable[str], keyword: KeywordIndex) -> list[str]:
    """The question's names that appear in no indexed chunk or title (empty when the index is empty)."""
    names = question_names(question, outlets)
    return _absent(names, _Frequencies(names, keyword))


def unknown_terms(question: str, outlets: Iterable[str], keyword: KeywordIndex) -> list[str]:
    """What the question asks about that no article mentions: its unknown names; or, when at least half of its
    content words appear in no article, those words (a question off the corpus's subjects)."""
    outlets = list(outlets)
    names = question_names(question, outlets)
    # Question words ("What", "did", "do") are not content: a small store need not contain them; nor are the words
    # of an outlet's name, which is metadata rather than article text ("What did Metro Tech Daily report ...").
    outlet_words = _outlet_words(outlets)
    words = [
        w
        for w in dict.fromkeys(_WORD.findall(question))
        if w.lower() not in FRAME_WORDS
        and w.lower().replace("’", "'") not in STOPWORDS
        and w.lower() not in outlet_words
    ]
    frequencies = _Frequencies(
        [*names, *words], keyword
    )  # one tokenisation and one index lookup for both rules
    missing_names = _absent(names, frequencies)
    if missing_names:
        return missing_names
    content = [w for w in words if frequencies.tokens[w]]
    absent = _absent(content, frequencies)
    off_subject = len(absent) >= max(OFF_CORPUS_MIN_WORDS, OFF_CORPUS_SHARE * len(content))
    return absent if content and off_subject else []


class _Frequencies:
    """The (stemmed) tokens of some words and how many indexed chunks hold each token."""

    def __init__(self, words: list[str], keyword: KeywordIndex) -> None:
        unique = list(dict.fromkeys(words))
        self.tokens = dict(zip(unique, tokenize(unique), strict=True)) if unique else {}
        wanted = sorted({t for ts in self.tokens.values() for t in ts})
        self.counts, self.total = keyword.document_frequencies(wanted) if wanted else ({}, 0)


def _absent(words: list[str], frequencies: _Frequencies) -> list[str]:
    """The words none of whose tokens any indexed chunk holds; none when the index is empty."""
    if frequencies.total == 0:
        return []
    # A word that tokenises to nothing (a stopword such as "The") says nothing either way.
    return [
        word
        for word in words
        if frequencies.tokens[word]
        and all(frequencies.counts.get(t, 0) == 0 for t in frequencies.tokens[word])
    ]
