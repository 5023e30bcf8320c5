"""The OpenAI `chat.completion` reply of POST /v1/chat/completions, with newsdesk's extra fields.

The fields OpenAI clients read are OpenAI's; ``citations`` and ``newsdesk`` are extra top-level fields that those
clients ignore and newsdesk-aware clients use.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rag.types import AnswerSentence, Citation, Status


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The cited, verified answer text with inline [n] markers.")


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class CompletionUsage(BaseModel):
    prompt_tokens: int = Field(description="Tokens of the question (cl100k_base).")
    completion_tokens: int = Field(description="Tokens of the answer text (cl100k_base).")
    total_tokens: int


class NewsdeskVerdicts(BaseModel):
    status: Status
    sentences: list[AnswerSentence] = Field(
        description="Each answer sentence with its support and citations."
    )


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(description="Unix time.")
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage
    citations: list[Citation] = Field(
        description="What each [n] in the content cites (newsdesk extra field)."
    )
    newsdesk: NewsdeskVerdicts = Field(
        description="The answer's status and per-sentence verdicts (extra field)."
    )
