"""Names a question uses that no article mentions: then the sources cannot hold the answer.

A capitalised word inside a question ("Who is Shubha Satheesh?", "... according to Cricbuzz") names someone or
something. When not one indexed chunk (title included) holds that word, nothing retrieved can be about it, however
similar the retrieved passages look, so the answer is ``insufficient_evidence`` and says which name is missing.

On MultiHop-RAG dev (609 articles) such a name occurs in 43 of the 90 null questions and in none of the 677
answerable ones. Only title-case words count (not acronyms like "CEO", which a corpus may spell out), and not the
first word of a sentence, month or weekday names, or words of the corpus's outlet names.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable

from rag.keyword import KeywordIndex, tokenize

# A title-case word that does not open a sentence (start of text, or after . ? ! and spaces/quotes).
_NAME = re.compile(r"(?<![\w'’-])[A-Z][a-z][\w'’-]*")
_SENTENCE_START = re.compile(r"(?:^|[.?!:]\s+)[\"'‘“(]*$")
_CALENDAR = frozenset(
    name.lower()
    for name in [*calendar.month_name, *calendar.month_abbr, *calendar.day_name, *calendar.day_abbr, "Sept"]
    if name
)


def question_names(question: str, outlets: Iterable[str]) -> list[str]:
    """Title-case words of the question that name something, outlet names excluded, in order, once each."""
    outlet_words = {w.lower() for outlet in outlets for w in re.findall(r"[^\W_]+", outlet)}
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
    if not names:
        return []
    tokens = {name: tokenize([name])[0] for name in names}
    counts, total = keyword.document_frequencies(sorted({t for ts in tokens.values() for t in ts}))
    if total == 0:
        return []
    # A name that tokenises to nothing (a stopword such as "The") says nothing either way.
    return [name for name, ts in tokens.items() if ts and all(counts.get(t, 0) == 0 for t in ts)]
