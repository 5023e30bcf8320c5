"""openai adapter: any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) for writing and embedding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import openai

from rag.llm.llms import WriterUnavailable
from rag.retrieval.embedders import normalise


def _client(base_url: str | None, api_key: str, timeout_s: float, max_retries: int) -> openai.OpenAI:
    # Retries are the openai client's own (openai 3.57, `_base_client`): up to `max_retries` more attempts after
    # connection errors (nothing listening, reset), timeouts, 408, 409, 429 and 5xx, each after an exponential
    # backoff of 0.5 s * 2**n capped at 8 s with 0-25 % random jitter (a server's Retry-After of up to 2 min is
    # obeyed instead). That covers connection errors too, so no backoff of our own is layered on top;
    # tests/test_openai_writer.py counts the attempts. `timeout_s` bounds each attempt.
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries)


def _unavailable(what: str, base_url: str | None, model: str, exc: openai.OpenAIError) -> WriterUnavailable:
    where = base_url or "the default OpenAI endpoint"
    return WriterUnavailable(f"the OpenAI-compatible {what} at {where} (model {model!r}) failed: {exc}")


class OpenAICompletion:
    def __init__(
        self, base_url: str | None, api_key: str, model: str, timeout_s: float = 60.0, max_retries: int = 2
    ):
        self.name = f"openai:{model}"
        self.model = model
        self.base_url = base_url
        self._client = _client(base_url, api_key, timeout_s, max_retries)

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        try:
            result = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_tokens=max_tokens,
                temperature=0.0,
            )
        except openai.OpenAIError as exc:
            raise _unavailable("endpoint", self.base_url, self.model, exc) from exc
        return result.choices[0].message.content or ""

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        try:
            pieces = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_tokens=max_tokens,
                temperature=0.0,
                stream=True,
            )
            with pieces:  # closes the HTTP response even when the consumer stops early
                for piece in pieces:
                    text = piece.choices[0].delta.content if piece.choices else None
                    if text:
                        yield text
        except openai.OpenAIError as exc:
            raise _unavailable("endpoint", self.base_url, self.model, exc) from exc


class OpenAIEmbedder:
    def __init__(
        self, base_url: str | None, api_key: str, model: str, timeout_s: float = 60.0, max_retries: int = 2
    ):
        self.name = f"openai:{model}"
        self.model = model
        self.base_url = base_url
        self._client = _client(base_url, api_key, timeout_s, max_retries)
        self.dim = len(self.embed(["dimension probe"])[0])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        try:
            result = self._client.embeddings.create(model=self.model, input=list(texts))
        except openai.OpenAIError as exc:
            raise _unavailable("embeddings endpoint", self.base_url, self.model, exc) from exc
        vectors = np.array([item.embedding for item in result.data], dtype=np.float32)
        return normalise(vectors)
