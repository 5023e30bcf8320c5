"""openai adapter: any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) for writing and embedding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import openai

from rag.embedders import normalise
from rag.llms import WriterUnavailable


def _client(base_url: str | None, api_key: str, timeout_s: float, max_retries: int) -> openai.OpenAI:
    # The client retries connection errors, 429s and 5xx with exponential backoff, max_retries times.
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries)


class OpenAICompletion:
    def __init__(
        self, base_url: str | None, api_key: str, model: str, timeout_s: float = 60.0, max_retries: int = 2
    ):
        self.name = f"openai:{model}"
        self.model = model
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
            raise WriterUnavailable(f"the OpenAI-compatible endpoint failed: {exc}") from exc
        return result.choices[0].message.content or ""


class OpenAIEmbedder:
    def __init__(
        self, base_url: str | None, api_key: str, model: str, timeout_s: float = 60.0, max_retries: int = 2
    ):
        self.name = f"openai:{model}"
        self.model = model
        self._client = _client(base_url, api_key, timeout_s, max_retries)
        self.dim = len(self.embed(["dimension probe"])[0])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        try:
            result = self._client.embeddings.create(model=self.model, input=list(texts))
        except openai.OpenAIError as exc:
            raise WriterUnavailable(f"the OpenAI-compatible embeddings endpoint failed: {exc}") from exc
        vectors = np.array([item.embedding for item in result.data], dtype=np.float32)
        return normalise(vectors)
