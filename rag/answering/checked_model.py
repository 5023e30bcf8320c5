"""The local writer: the model answers factoid questions, the extractive reader the rest, and both judge.

On the natural questions the answer-first model (``answer_first``) copies the right short phrase more often than the
reader's patterns, but it answers a why/how question with NOT FOUND (a phrase does not fit it), says "Yes" to most
yes/no questions, and refuses answerable factoid questions about as often as unanswerable ones. So:

- factoid questions (who/what/when/where/how many, one part): the model's draft, shown when the mean of its
  answerability (1 - P(NOT FOUND)) and the reader's reaches ``min_answerability``; when the model's phrase cannot be
  placed verbatim, the reader's draft stands in under the same rule;
- why/how, open, yes/no, choice and two-part questions: the reader's draft (its writer name says so).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rag.answering.answer_first import AnswerFirstWriter
from rag.answering.question import read_question
from rag.answering.reader import Reader
from rag.llm.llms import Completion, Prompt
from rag.types import Draft, Passage


class CheckedModelWriter(AnswerFirstWriter):
    def __init__(
        self,
        completion: Completion,
        prompt: Prompt,
        reader: Reader,
        min_answerability: float,
        max_tokens: int = 256,
    ) -> None:
        super().__init__(completion, prompt, max_tokens)
        self.reader = reader
        self.min_answerability = min_answerability

    def write(self, question: str, passages: Sequence[Passage]) -> Draft:
        if not _for_the_model(question):
            return self.reader.write(question, passages)
        return self._judged(question, passages, super().write(question, passages))

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        # A question the reader answers costs no model call.
        return super().stream(question, passages) if _for_the_model(question) else iter(())

    def draft(self, text: str, passages: Sequence[Passage] = (), question: str = "") -> Draft:
        if not _for_the_model(question):
            return self.reader.write(question, passages)
        return self._judged(question, passages, super().draft(text, passages, question))

    def _judged(self, question: str, passages: Sequence[Passage], model: Draft) -> Draft:
        extract = self.reader.write(question, passages)
        score = ((model.answerability or 0.0) + (extract.answerability or 0.0)) / 2
        if score >= self.min_answerability:
            if model.short_answer is not None and model.sentences:
                return model.model_copy(update={"answerability": score})
            if extract.sentences:
                return extract.model_copy(update={"answerability": score})
        refusal = extract.refusal or model.refusal
        return Draft(
            sentences=[], writer=self.name, prompt_id=self.prompt_id, answerability=score, refusal=refusal
        )


def _for_the_model(question: str) -> bool:
    shape = read_question(question)
    return shape.kind == "factoid" and len(shape.parts) < 2
