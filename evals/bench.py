"""`newsdesk bench`: speed and scale on a real corpus (MultiHop-RAG by default), in one run, on this machine.

Measures, into temporary stores (nothing under DATA_DIR is touched):

- ingest, end to end, with the default embedder (packaged int8 MiniLM on onnxruntime): articles/s, chunks/s;
- the raw embedding throughput of that embedder, and of the naive baseline — sentence-transformers on torch,
  ``model.encode(texts, batch_size=32)`` — on the same sample of chunk texts, in a separate interpreter (newsdesk's
  venv has no torch; see ``evals/bench_st.py``), with the cosine between the two embeddings of each text;
- re-ingest of the unchanged corpus (every article skipped by content hash);
- retrieval latency (the hybrid retriever, as `newsdesk eval retrieval` calls it) over the dev queries, at the
  corpus size and, with ``scale``, in a second store scaled up with synthetic copies (see ``build_scaled``);
- what one article's write costs the keyword index: the writer's update (tantivy, that article's postings only)
  and the first search after it (what every API process pays after any write: a searcher reload);
- extractive ask latency, in process (``rag.pipeline.ask``) and through the HTTP app (FastAPI TestClient);
- peak RSS (``getrusage``) after each phase; the baseline's own peak RSS comes from its process.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from evals.multihop import Query, load_corpus, load_queries
from ingest.pipeline import Ingestor
from rag.pipeline import Services, ask, build_services
from rag.retrieval.embedders import PACKAGED_NAME, MiniLMEmbedder, normalise
from rag.settings import PROJECT_ROOT, Settings

DEFAULT_EMBEDDER = Settings.model_fields["embedder"].default

BENCH_VENV_PYTHON = PROJECT_ROOT / ".venv-bench" / "bin" / "python"
ST_SCRIPT = Path(__file__).with_name("bench_st.py")
# Each synthetic copy's vector is the real one plus Gaussian noise of this norm, re-normalised: cosine ~0.89 to the
# original, so copies sit near their source in the HNSW graph without being exact duplicates.
SCALE_NOISE = 0.5
RETRIEVE_K = 10


@dataclass(frozen=True)
class BenchOptions:
    corpus: Path
    queries: Path
    out: Path
    limit_articles: int | None = None
    limit_queries: int | None = None
    ask_queries: int = 100
    embed_sample: int = 500
    scale: int = 0
    baseline: bool = True
    baseline_python: Path | None = None
    http: bool = True
    seed: int = 0


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    if not values_ms:
        return {"n": 0}
    ordered = sorted(values_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)

    return {"n": len(ordered), "p50": at(0.5), "p95": at(0.95), "mean": round(sum(ordered) / len(ordered), 2)}


class CpuMeter:
    """How busy the rest of the machine was while a phase ran: CPU seconds used by other processes per wall second
    per CPU (0.0: the machine was ours; 0.5 on 2 CPUs: one core busy elsewhere; steal time counts as others').
    Timings taken with a high share are not comparable with quiet ones. Reads /proc/stat (Linux); None elsewhere."""

    def __init__(self) -> None:
        self._start = (self._busy(), self._ours(), time.perf_counter())

    @staticmethod
    def _busy() -> float | None:
        try:
            fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _ours() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def share(self) -> float | None:
        busy0, ours0, wall0 = self._start
        busy1, wall = self._busy(), time.perf_counter() - wall0
        if busy0 is None or busy1 is None or wall <= 0:
            return None
        others = (busy1 - busy0) - (self._ours() - ours0)
        return round(max(0.0, others) / (wall * (os.cpu_count() or 1)), 3)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def evenly(items: Sequence[Any], n: int) -> list[Any]:
    """n items spread evenly over the sequence (all of them when n is 0 or not smaller)."""
    if n <= 0 or n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


@contextmanager
def _progress(console: Console, label: str, total: int) -> Iterator[Callable[[int], None]]:
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def run_bench(options: BenchOptions, console: Console | None = None) -> dict[str, Any]:
    console = console or Console(stderr=True)
    options.out.mkdir(parents=True, exist_ok=True)
    records = load_corpus(options.corpus)
    if options.limit_articles:
        records = records[: options.limit_articles]
    queries = load_queries(options.queries, include_null=True)
    if options.limit_queries:
        queries = queries[: options.limit_queries]
    result: dict[str, Any] = {
        "suite": "bench",
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
    }
    peaks: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "store", chroma_url=None, embedder=DEFAULT_EMBEDDER, rate_limit_per_minute=0
        )
        started = time.perf_counter()
        services = build_services(settings)
        build_s = time.perf_counter() - started
        result["settings"] = {
            "embedder": services.embedder.name,
            "embed_batch_size": settings.embed_batch_size,
            "embed_max_batch_tokens": getattr(services.embedder, "max_batch_tokens", None),
            "retrieval_mode": settings.retrieval_mode,
            "writer": settings.writer,
            "chunk_tokens": settings.chunk_tokens,
        }

        # (a) ingest, end to end.
        contention: dict[str, float | None] = {}
        meter = CpuMeter()
        with _progress(console, "ingesting", len(records)) as tick:
            started = time.perf_counter()
            report = Ingestor(services).ingest(records, progress=tick)
            ingest_s = time.perf_counter() - started
        articles, chunks = services.registry.counts()
        result["ingest"] = {
            "articles": articles,
            "chunks": chunks,
            "rejected": len(report.rejected),
            "seconds": round(ingest_s, 2),
            "articles_per_s": round(articles / ingest_s, 2),
            "chunks_per_s": round(chunks / ingest_s, 2),
            "services_build_s": round(build_s, 2),
        }
        contention["ingest"] = meter.share()
        peaks["after_ingest"] = peak_rss_mb()
        console.print(f"ingest: {report.summary()}")

        # (c) re-ingest of the unchanged corpus.
        started = time.perf_counter()
        again = Ingestor(services).ingest(records)
        reingest_s = time.perf_counter() - started
        result["reingest"] = {
            "seconds": round(reingest_s, 3),
            "unchanged": again.unchanged,
            "chunks_written": again.chunks_written,
            "ratio_to_first": round(reingest_s / ingest_s, 4),
        }

        # (b) raw embedding throughput: ours, then the naive baseline, on the same chunk texts.
        texts = [c.text for c in evenly(services.registry.all_chunks(), options.embed_sample)]
        result["embed"] = embed_phase(services, texts, options, Path(tmp), console)
        result["embed"]["ingest_chunks_per_s_vs_baseline"] = _ratio(
            result["ingest"]["chunks_per_s"], result["embed"]["baseline"].get("texts_per_s")
        )
        peaks["after_embed"] = peak_rss_mb()

        # (d) retrieval latency at the corpus size, then extractive ask latency.
        as_of = max(
            (a.published_at for a in services.registry.articles(limit=1)[0] if a.published_at), default=None
        )
        meter = CpuMeter()
        result["retrieval"] = {"corpus": retrieval_phase(services, queries, as_of, console, "corpus")}
        contention["retrieval_corpus"] = meter.share()
        peaks["after_retrieval"] = peak_rss_mb()
        asked = evenly(queries, options.ask_queries)
        meter = CpuMeter()
        result["ask"] = {"in_process": ask_phase(services, asked, as_of, console)}
        contention["ask_in_process"] = meter.share()
        peaks["after_ask"] = peak_rss_mb()

        if options.scale:
            scaled, how = build_scaled(services, options.scale, Path(tmp) / "scaled", options.seed, console)
            try:
                meter = CpuMeter()
                result["retrieval"]["scaled"] = {
                    **how,
                    **retrieval_phase(scaled, queries, as_of, console, f"scaled to {options.scale}"),
                }
                contention["retrieval_scaled"] = meter.share()
                # /v1/ask at scale, through the HTTP app as the target is stated (its lifespan closes `scaled`).
                meter = CpuMeter()
                result["ask"]["scaled"] = (
                    http_phase(scaled, asked, as_of, console)
                    if options.http
                    else ask_phase(scaled, asked, as_of, console)
                )
                contention["ask_scaled"] = meter.share()
            finally:
                scaled.close()
            peaks["after_scale"] = peak_rss_mb()

        if options.http:  # last: the app's lifespan closes the services on the way out
            meter = CpuMeter()
            result["ask"]["http"] = http_phase(services, asked, as_of, console)
            contention["ask_http"] = meter.share()
            peaks["after_http"] = peak_rss_mb()
        else:
            services.close()
    result["peak_rss_mb"] = peaks
    contention.update(result["embed"].pop("others_cpu_share", {}))
    result["others_cpu_share"] = contention
    result["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    (options.out / "bench.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def embed_phase(
    services: Services, texts: list[str], options: BenchOptions, tmp: Path, console: Console
) -> dict[str, Any]:
    embedder = services.embedder
    embedder.embed(texts[:32])  # warm-up, not timed
    console.print(f"embedding {len(texts)} chunk texts with {embedder.name}")
    meter = CpuMeter()
    started = time.perf_counter()
    ours = embedder.embed(texts)
    ours_s = time.perf_counter() - started
    shares = {"embed_newsdesk": meter.share()}
    out: dict[str, Any] = {
        "texts": len(texts),
        "mean_chars": round(sum(map(len, texts)) / max(1, len(texts)), 1),
        "newsdesk": {
            "embedder": embedder.name,
            "seconds": round(ours_s, 2),
            "texts_per_s": round(len(texts) / ours_s, 2),
        },
    }
    if embedder.name != PACKAGED_NAME:  # the packaged graph as shipped, for the ratio of the two routes
        packaged = MiniLMEmbedder()
        packaged.embed(texts[:32])
        meter = CpuMeter()
        started = time.perf_counter()
        packaged.embed(texts)
        packaged_s = time.perf_counter() - started
        shares["embed_packaged"] = meter.share()
        out["packaged_route"] = {
            "embedder": packaged.name,
            "seconds": round(packaged_s, 2),
            "texts_per_s": round(len(texts) / packaged_s, 2),
        }
        out["speedup_vs_packaged_route"] = _ratio(
            out["newsdesk"]["texts_per_s"], out["packaged_route"]["texts_per_s"]
        )
    meter = CpuMeter()
    baseline = baseline_phase(texts, options, tmp, console)
    shares["embed_baseline"] = meter.share()  # includes its start-up and model load
    out["baseline"] = baseline
    out["others_cpu_share"] = shares
    vectors_path = tmp / "st_vectors.npy"
    if "texts_per_s" in baseline and vectors_path.exists():
        theirs = normalise(np.load(vectors_path))
        cosine = np.sum(ours * theirs, axis=1)
        out["cosine_to_baseline"] = {
            "mean": round(float(cosine.mean()), 5),
            "min": round(float(cosine.min()), 5),
        }
        out["speedup_vs_baseline"] = _ratio(out["newsdesk"]["texts_per_s"], baseline["texts_per_s"])
    return out


def baseline_python(options: BenchOptions) -> Path | None:
    if options.baseline_python is not None:
        return options.baseline_python
    if importlib.util.find_spec("torch") and importlib.util.find_spec("sentence_transformers"):
        return Path(sys.executable)
    return BENCH_VENV_PYTHON if BENCH_VENV_PYTHON.exists() else None


def baseline_phase(texts: list[str], options: BenchOptions, tmp: Path, console: Console) -> dict[str, Any]:
    if not options.baseline:
        return {"skipped": "--no-baseline"}
    python = baseline_python(options)
    if python is None:
        return {
            "skipped": "torch + sentence-transformers are not importable here and .venv-bench does not exist "
            "(make bench-venv builds it)"
        }
    (tmp / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    console.print(f"baseline: sentence-transformers in {python}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    try:
        done = subprocess.run(
            [str(python), str(ST_SCRIPT), str(tmp / "texts.json"), str(tmp)],
            capture_output=True,
            text=True,
            env=env,
            timeout=3600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode == 3 and lines:
        return {"skipped": json.loads(lines[-1]).get("error", "not importable"), "python": str(python)}
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}: {done.stderr[-2000:]}", "python": str(python)}
    return {"route": "sentence-transformers model.encode", "python": str(python), **json.loads(lines[-1])}


def retrieval_phase(
    services: Services, queries: list[Query], as_of: datetime | None, console: Console, label: str
) -> dict[str, Any]:
    chunks = services.registry.counts()[1]
    # One article rewritten as an ingest would: the index's update, then the first search after it, timed apart.
    keyword = services.retriever.keyword
    keyword.search("warm up", 1)
    article_id = sorted(services.registry.article_ids())[0]
    article = services.registry.article(article_id)
    assert article is not None
    services.registry.replace(article, services.registry.chunks_of(article_id))
    started = time.perf_counter()
    keyword.sync()
    update_s = time.perf_counter() - started
    started = time.perf_counter()
    keyword.search("warm up", 1)
    first_search_s = time.perf_counter() - started
    services.retriever.search(queries[0].text, RETRIEVE_K, as_of=as_of)  # warm-up, not timed
    latencies: list[float] = []
    with _progress(console, f"retrieval ({label})", len(queries)) as tick:
        for query in queries:
            started = time.perf_counter()
            services.retriever.search(query.text, RETRIEVE_K, as_of=as_of)
            latencies.append((time.perf_counter() - started) * 1000)
            tick(1)
    return {
        "chunks": chunks,
        "keyword_update_ms": round(update_s * 1000, 1),
        "first_search_after_write_ms": round(first_search_s * 1000, 1),
        "latency_ms": latency_summary(latencies),
    }


def ask_phase(
    services: Services, queries: list[Query], as_of: datetime | None, console: Console
) -> dict[str, Any]:
    latencies: list[float] = []
    stages: dict[str, list[float]] = {}
    statuses: dict[str, int] = {}
    ask(services, queries[0].text, as_of=as_of)  # warm-up, not timed
    with _progress(console, "ask (in process)", len(queries)) as tick:
        for query in queries:
            started = time.perf_counter()
            answer = ask(services, query.text, as_of=as_of)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
            for stage, ms in answer.timings.items():
                stages.setdefault(stage, []).append(ms)
            tick(1)
    return {
        "writer": services.writer.name,
        "latency_ms": latency_summary(latencies),
        "stage_mean_ms": {k: round(sum(v) / len(v), 2) for k, v in sorted(stages.items())},
        "statuses": statuses,
    }


def http_phase(
    services: Services, queries: list[Query], as_of: datetime | None, console: Console
) -> dict[str, Any]:
    try:
        from fastapi.testclient import TestClient

        from api.app import create_app
    except ImportError as exc:
        services.close()
        return {"skipped": str(exc)}
    app = create_app(services.settings, services_factory=lambda _settings: services)
    # One access-log line per request would bury the progress bar; the open-API warning is expected here.
    quiet = {name: logging.getLogger(name).level for name in ("newsdesk.access", "newsdesk.api")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.ERROR)
    body_extra = {"as_of": as_of.isoformat()} if as_of else {}
    latencies: list[float] = []
    codes: dict[str, int] = {}
    with TestClient(app) as client, _progress(console, "ask (HTTP, TestClient)", len(queries)) as tick:
        client.post("/v1/ask", json={"question": queries[0].text, **body_extra})  # warm-up
        for query in queries:
            started = time.perf_counter()
            response = client.post("/v1/ask", json={"question": query.text, **body_extra})
            latencies.append((time.perf_counter() - started) * 1000)
            codes[str(response.status_code)] = codes.get(str(response.status_code), 0) + 1
            tick(1)
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)
    return {
        "route": "POST /v1/ask via FastAPI TestClient",
        "latency_ms": latency_summary(latencies),
        "codes": codes,
    }


def build_scaled(
    services: Services, target: int, data_dir: Path, seed: int, console: Console
) -> tuple[Services, dict[str, Any]]:
    """A second store holding the real corpus plus synthetic copies, up to ``target`` chunks.

    The registry starts as a copy of the real one (SQLite backup) and Chroma gets the real vectors. Then, round
    after round, every real article is copied as a new article ``ID-xR`` (same title, body, source, date) whose
    chunks are ``CHUNKID-xR`` with the same text and offsets, registered with ``Registry.replace`` like an ingest
    does, and upserted to Chroma with the real chunk's metadata and its vector plus Gaussian noise of norm
    ``SCALE_NOISE``, re-normalised. No embedding is computed; the keyword index applies the copies once at the end.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = services.settings.model_copy(update={"data_dir": data_dir})
    source_db = sqlite3.connect(str(services.settings.registry_path))
    target_db = sqlite3.connect(str(settings.registry_path))
    source_db.backup(target_db)
    source_db.close()
    target_db.close()
    scaled = build_services(settings, embedder=services.embedder)
    started = time.perf_counter()
    real = services.registry.all_chunks()
    vectors, documents, metadatas = services.store.records([c.id for c in real])
    batch = scaled.store.max_batch_size()
    for offset in range(0, len(real), batch):
        part = slice(offset, offset + batch)
        scaled.store.upsert([c.id for c in real[part]], vectors[part], documents[part], metadatas[part])
    by_article: dict[str, list[int]] = {}
    for i, chunk in enumerate(real):
        by_article.setdefault(chunk.article_id, []).append(i)
    articles = services.registry.articles_by_id(sorted(by_article))
    rng = np.random.default_rng(seed)
    total, copies, rounds = len(real), 0, 0
    pending: tuple[list[str], list[np.ndarray], list[str], list[dict[str, Any]]] = ([], [], [], [])
    cosines: list[float] = []
    registry_s = 0.0

    def flush() -> None:
        if pending[0]:
            stacked = np.vstack(pending[1])
            for at in range(0, len(pending[0]), batch):  # at most Chroma's max batch size per upsert
                window = slice(at, at + batch)
                scaled.store.upsert(
                    pending[0][window], stacked[window], pending[2][window], pending[3][window]
                )
            for part in pending:
                part.clear()

    with _progress(console, f"scaling up to {target} chunks", max(0, target - total)) as tick:
        while total < target:
            rounds += 1
            for article_id, rows in by_article.items():
                if total >= target:
                    break
                new_id = f"{article_id}-x{rounds}"
                article = articles[article_id].model_copy(update={"id": new_id})
                chunks = [
                    real[i].model_copy(update={"id": f"{real[i].id}-x{rounds}", "article_id": new_id})
                    for i in rows
                ]
                t0 = time.perf_counter()
                scaled.registry.replace(article, chunks)
                registry_s += time.perf_counter() - t0
                noise = rng.standard_normal((len(rows), vectors.shape[1])).astype(np.float32)
                noise *= SCALE_NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
                copied = normalise(vectors[rows] + noise)
                if len(pending[0]) + len(rows) > batch:
                    flush()  # one upsert may carry at most Chroma's max batch size
                if len(cosines) < 2000:
                    cosines.extend(np.sum(copied * vectors[rows], axis=1).tolist())
                pending[0].extend(c.id for c in chunks)
                pending[1].append(copied)
                pending[2].extend(documents[i] for i in rows)
                pending[3].extend({**metadatas[i], "article_id": new_id} for i in rows)
                total += len(rows)
                copies += 1
                tick(len(rows))
        flush()
    sync_started = time.perf_counter()
    scaled.retriever.keyword.sync()
    keyword_sync_s = time.perf_counter() - sync_started
    how = {
        "method": "real corpus + synthetic copies (same text and metadata, new ids, vector + noise)",
        "real_chunks": len(real),
        "synthetic_articles": copies,
        "rounds": rounds,
        "copy_cosine_mean": round(float(np.mean(cosines)), 4) if cosines else None,
        "build_s": round(time.perf_counter() - started, 1),
        "registry_write_s": round(registry_s, 1),
        "keyword_sync_s": round(keyword_sync_s, 1),
        "chroma_count": scaled.store.count(),
    }
    return scaled, how


def print_table(result: dict[str, Any], console: Console) -> None:
    table = Table("phase", "metric", "value", title="newsdesk bench")
    ingest = result["ingest"]
    table.add_row("ingest", "articles / chunks", f"{ingest['articles']} / {ingest['chunks']}")
    table.add_row("", "seconds", str(ingest["seconds"]))
    table.add_row("", "articles/s · chunks/s", f"{ingest['articles_per_s']} · {ingest['chunks_per_s']}")
    reingest = result["reingest"]
    table.add_row(
        "re-ingest (unchanged)",
        "seconds · ratio to first",
        f"{reingest['seconds']} · {reingest['ratio_to_first']}",
    )
    embed = result["embed"]
    table.add_row("embed", "texts (same for both)", str(embed["texts"]))
    table.add_row("", "newsdesk texts/s", str(embed["newsdesk"]["texts_per_s"]))
    if "packaged_route" in embed:
        table.add_row(
            "",
            "packaged graph texts/s · speedup",
            f"{embed['packaged_route']['texts_per_s']} · {embed.get('speedup_vs_packaged_route')}×",
        )
    baseline = embed["baseline"]
    if "texts_per_s" in baseline:
        table.add_row("", "sentence-transformers texts/s", str(baseline["texts_per_s"]))
        table.add_row(
            "",
            "speedup (raw) · ingest vs baseline",
            f"{embed.get('speedup_vs_baseline')}× · {embed.get('ingest_chunks_per_s_vs_baseline')}×",
        )
        cosine = embed.get("cosine_to_baseline", {})
        table.add_row("", "cosine to baseline (mean · min)", f"{cosine.get('mean')} · {cosine.get('min')}")
        table.add_row("", "baseline peak RSS MB", str(baseline.get("peak_rss_mb")))
    else:
        table.add_row("", "baseline", str(baseline.get("skipped") or baseline.get("error")))
    for name, phase in result["retrieval"].items():
        latency = phase["latency_ms"]
        table.add_row(
            f"retrieval ({name})",
            f"{phase['chunks']} chunks: p50 · p95 ms (n={latency.get('n')})",
            f"{latency.get('p50')} · {latency.get('p95')}",
        )
        table.add_row(
            "",
            "keyword update · first search after, ms",
            f"{phase['keyword_update_ms']} · {phase['first_search_after_write_ms']}",
        )
    for name, phase in result["ask"].items():
        latency = phase.get("latency_ms", {})
        value = f"{latency.get('p50')} · {latency.get('p95')}" if latency else str(phase.get("skipped"))
        table.add_row(f"ask ({name})", f"p50 · p95 ms (n={latency.get('n')})", value)
    for phase, mb in result["peak_rss_mb"].items():
        table.add_row("peak RSS", phase.replace("_", " "), f"{mb} MB")
    busy = ", ".join(f"{k} {v}" for k, v in result["others_cpu_share"].items() if v)
    table.add_row("machine", "other processes' CPU share", busy or "none")
    console.print(table)
