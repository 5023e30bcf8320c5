"""Embedding micro-benchmark (issue 7): MiniLM routes side by side on real chunk texts, in one process.

    python -m evals.embed_speed --texts 300 --repeats 3 --out eval-out/embed-speed.json

Takes ``--texts`` chunk texts of the MultiHop-RAG corpus, chunked as the ingest does (rag/chunking.py with the
settings' chunk size and overlap) and spread evenly over the corpus. Each candidate route embeds all of them once
per repeat; the candidates run interleaved (the order rotates each repeat) so that load from other processes on the
shared machine falls on all of them alike. Reported per candidate, as the median over repeats: texts/s (wall),
texts per CPU-second of this process (steadier under contention; it includes onnxruntime's spin-waiting), the
contention while it ran (``CpuMeter``: share of the CPUs used by other processes), the peak RSS during its runs
(VmHWM, reset before each run; every candidate's session is loaded, so it includes theirs), and the cosine of
each of its embeddings to the reference route's (min / mean).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evals.bench import CpuMeter, evenly
from evals.multihop import load_corpus
from rag.chunking import Chunker
from rag.retrieval.embedders import Embedder, MiniLMEmbedder
from rag.settings import PROJECT_ROOT, Settings

DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "data" / "multihop" / "corpus.json"
# name → factory(cache_dir); "packaged" (the route before issue 7) is the reference for cosines.
CANDIDATES: dict[str, Callable[[Path], Embedder]] = {
    "packaged": lambda cache: MiniLMEmbedder(),
    "packaged-w128": lambda cache: MiniLMEmbedder(max_tokens=128),
    "dynq8": lambda cache: MiniLMEmbedder(quantized=True, cache_dir=cache),
    "dynq8-w128": lambda cache: MiniLMEmbedder(quantized=True, cache_dir=cache, max_tokens=128),
}
REFERENCE = "packaged"


def chunk_texts(corpus: Path, n: int, settings: Settings) -> list[str]:
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens)
    texts: list[str] = []
    # ~11 chunks per article: a quarter as many articles as texts, spread over the corpus, is plenty to pick from.
    for index, record in enumerate(evenly(load_corpus(corpus), n // 4 + 1)):
        texts += [c.text for c in chunker.split(str(index), "bench", str(record["body"]))]
    return evenly(texts, n)


def _status_kb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # Linux: resets VmHWM to the current RSS


def run(corpus: Path, n_texts: int, repeats: int, names: list[str], cache_dir: Path) -> dict[str, object]:
    settings = Settings()
    texts = chunk_texts(corpus, n_texts, settings)
    embedders = {name: CANDIDATES[name](cache_dir) for name in dict.fromkeys([REFERENCE, *names])}
    for embedder in embedders.values():
        embedder.embed(texts[:8])  # warm-up: first-run allocations are not part of the rate
    samples: dict[str, list[dict[str, float | None]]] = {name: [] for name in embedders}
    vectors: dict[str, np.ndarray] = {}
    order = list(embedders)
    for repeat in range(repeats):
        for name in order[repeat % len(order) :] + order[: repeat % len(order)]:
            _reset_peak_rss()
            meter, cpu0, wall0 = CpuMeter(), time.process_time(), time.perf_counter()
            vectors[name] = embedders[name].embed(texts)
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            peak = _status_kb("VmHWM")
            sample = {
                "texts_per_s": len(texts) / wall,
                "texts_per_cpu_s": len(texts) / cpu,
                "contention": meter.share(),
                "peak_rss_mb": None if peak is None else peak / 1024,
            }
            samples[name].append(sample)
            print(f"repeat {repeat} {name}: " + ", ".join(f"{k} {_round(v)}" for k, v in sample.items()))
    results: dict[str, object] = {}
    for name, runs in samples.items():
        cosines = np.sum(vectors[name] * vectors[REFERENCE], axis=1)
        results[name] = {
            "embedder": embedders[name].name,
            **{key: _round(_median([r[key] for r in runs])) for key in runs[0]},
            "cosine_min": round(float(cosines.min()), 4),
            "cosine_mean": round(float(cosines.mean()), 4),
        }
    return {"texts": len(texts), "repeats": repeats, "reference": REFERENCE, "candidates": results}


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--texts", type=int, default=300, help="chunk texts embedded per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--candidates", default=",".join(CANDIDATES), help="comma-separated: " + ", ".join(CANDIDATES)
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("eval-out/models"), help="derived models")
    parser.add_argument("--out", type=Path, default=None, help="write the summary here as JSON")
    args = parser.parse_args()
    names = [name.strip() for name in args.candidates.split(",") if name.strip()]
    unknown = [name for name in names if name not in CANDIDATES]
    if unknown or args.texts < 1 or args.repeats < 1:
        parser.error(
            f"unknown candidates {unknown}" if unknown else "--texts and --repeats must be at least 1"
        )
    summary = run(args.corpus, args.texts, args.repeats, names, args.cache_dir)
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
