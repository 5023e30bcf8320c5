"""Writers that use a language model. The model only proposes; the verifier decides what is shown.

Model output is parsed into sentences with their ``[n]`` markers; ``INSUFFICIENT EVIDENCE`` (or an empty answer)
becomes an empty draft, which the pipeline reports as ``insufficient_evidence``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from rag.text import split_sentences
from rag.types import Draft, DraftSentence, Passage

_MARKER = re.compile(r"\s*\[(\d{1,3})\]")
_REFUSAL = re.compile(
    r"insufficient (evidence|information)|cannot (be )?answer|not (contain|mention|provide)", re.I
)


class Writer(Protocol):
    name: str
    prompt_id: str | None

    def write(self, question: str, passages: Sequence[Passage]) -> Draft: ...


class Completion(Protocol):
    """A chat model endpoint: system + user message in, text out (whole, or streamed in pieces)."""

    name: str

    def complete(self, system: str, user: str, max_tokens: int) -> str: ...

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]: ...


class WriterUnavailable(RuntimeError):
    """The configured model endpoint could not be reached or failed; the message says which and why."""


class Prompt:
    def __init__(self, directory: Path, name: str, version: int) -> None:
        self.id = f"{name}.v{version}"
        self.system = (directory / f"{self.id}.system.md").read_text(encoding="utf-8").strip()
        self.user = (directory / f"{self.id}.user.md").read_text(encoding="utf-8")

    def render(self, question: str, passages: Sequence[Passage]) -> str:
        blocks = []
        for n, passage in enumerate(passages, start=1):
            date = passage.published_at.date().isoformat() if passage.published_at else "unknown"
            text = passage.chunk.text.replace("</passage>", "</ passage>")
            blocks.append(f'<passage n="{n}" source="{passage.source}" date="{date}">\n{text}\n</passage>')
        return self.user.format(passages="\n".join(blocks), question=question)


class ModelWriter:
    def __init__(self, completion: Completion, prompt: Prompt, max_tokens: int = 256) -> None:
        self.completion = completion
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.name = completion.name
        self.prompt_id: str | None = prompt.id

    def write(self, question: str, passages: Sequence[Passage]) -> Draft:
        if not passages:
            return Draft(sentences=[], writer=self.name, prompt_id=self.prompt_id)
        text = self.completion.complete(
            self.prompt.system, self.prompt.render(question, passages), self.max_tokens
        )
        return self.draft(text)

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        """The model's raw text as it is generated; join the pieces and pass them to ``draft``."""
        if not passages:
            return iter(())
        return self.completion.stream(
            self.prompt.system, self.prompt.render(question, passages), self.max_tokens
        )

    def draft(self, text: str, passages: Sequence[Passage] = (), question: str = "") -> Draft:
        """The Draft of a reply (``passages`` and ``question``: what it was written from; answer-first writers
        place the short answer in them)."""
        return Draft(sentences=parse_cited_text(text), writer=self.name, prompt_id=self.prompt_id)


def parse_cited_text(text: str) -> list[DraftSentence]:
    """Sentences with the passage numbers they cite; a citation run after a sentence's full stop belongs to it."""
    text = text.strip()
    # A refusal is a reply that opens with one, or an uncited reply that says it cannot answer; a cited sentence
    # such as "The company did not provide a figure [1]." is an answer.
    if (
        not text
        or text.upper().startswith("INSUFFICIENT")
        or (not _MARKER.search(text) and _REFUSAL.search(text))
    ):
        return []
    # Move markers that follow the full stop ("... rose. [2]") in front of it so they stay with their sentence.
    text = re.sub(r"([.!?])((?:\s*\[\d{1,3}\])+)", r"\2\1", text)
    sentences: list[DraftSentence] = []
    for span in split_sentences(text):
        cited = [int(n) for n in _MARKER.findall(span.text)]
        clean = _MARKER.sub("", span.text).strip()
        clean = re.sub(r"\s+([.!?,;:])", r"\1", clean)
        if len(clean.split()) >= 2:
            sentences.append(DraftSentence(text=clean, passages=cited))
    return sentences
