"""`newsdesk loadtest`: concurrent clients drive a real uvicorn server over HTTP, mixing asks and ingests.

The server runs in its own process (`newsdesk serve`, see ``evals/server.py``) over a temporary copy of a store, so
the load never touches real data; this process is the load generator (asyncio + httpx, one connection per client).
Each client loops until the deadline: with probability ``ingest_share`` it POSTs one article to /v1/ingest (articles
held back from the store first, then changed versions of them, which exercises updates), otherwise it POSTs a
MultiHop-RAG question to /v1/ask. Reported per operation: count, errors (non-2xx or transport failures),
p50/p95/p99 latency; overall: completed requests per second.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from evals.multihop import load_corpus, load_queries
from evals.server import running_server

REQUEST_TIMEOUT_S = 300.0


@dataclass
class LoadOptions:
    corpus: Path
    queries: Path
    out: Path
    clients: int = 20
    duration_s: float = 60.0
    ingest_share: float = 0.1
    held_back: int = 60  # corpus articles kept out of the store, for the ingest operations
    limit_articles: int | None = None
    store: Path | None = None  # a built store to copy (held-back articles it already holds become updates)
    seed: int = 0


@dataclass
class Outcome:
    op: str
    status: int  # 0: transport error
    ms: float
    error: str = ""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def summarise(outcomes: Sequence[Outcome], elapsed_s: float) -> dict[str, Any]:
    result: dict[str, Any] = {"elapsed_s": round(elapsed_s, 2), "ops": {}}
    for op in sorted({o.op for o in outcomes}):
        mine = [o for o in outcomes if o.op == op]
        ok = [o.ms for o in mine if 200 <= o.status < 300]
        result["ops"][op] = {
            "n": len(mine),
            "errors": len(mine) - len(ok),
            "per_s": round(len(mine) / elapsed_s, 2) if elapsed_s else 0.0,
            "p50_ms": percentile(ok, 0.50),
            "p95_ms": percentile(ok, 0.95),
            "p99_ms": percentile(ok, 0.99),
            "status": dict(Counter(str(o.status) for o in mine)),
        }
    result["requests"] = len(outcomes)
    result["errors"] = sum(1 for o in outcomes if not 200 <= o.status < 300)
    result["per_s"] = round(len(outcomes) / elapsed_s, 2) if elapsed_s else 0.0
    result["error_samples"] = [asdict(o) for o in outcomes if not 200 <= o.status < 300][:10]
    return result


def ingest_bodies(held_back: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """New articles first, then changed versions of them (updates), round after round."""
    yield from held_back
    for round_no in itertools.count(1):
        for record in held_back:
            yield {**record, "body": f"{record['body']}\n\nUpdated (load-test round {round_no})."}


async def drive(
    base_url: str | Sequence[str],
    questions: Sequence[str],
    articles: Iterator[dict[str, Any]],
    options: LoadOptions,
    as_of: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the clients until the deadline; with several base URLs (replicas) client n talks to URL n mod N."""
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + options.duration_s
    bases = [base_url] if isinstance(base_url, str) else list(base_url)

    async def client(number: int) -> None:
        rng = random.Random(options.seed * 1000 + number)
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(
            base_url=bases[number % len(bases)], timeout=REQUEST_TIMEOUT_S, limits=limits, headers=headers
        ) as http:
            while time.monotonic() < deadline:
                if rng.random() < options.ingest_share:
                    op, path = "ingest", "/v1/ingest"
                    body: dict[str, Any] = {"articles": [next(articles)]}
                else:
                    op, path = "ask", "/v1/ask"
                    body = {"question": rng.choice(questions), **({"as_of": as_of} if as_of else {})}
                started = time.perf_counter()
                try:
                    response = await http.post(path, json=body)
                    status, error = response.status_code, "" if response.is_success else response.text[:300]
                except httpx.HTTPError as exc:
                    status, error = 0, f"{type(exc).__name__}: {exc}"
                outcomes.append(Outcome(op, status, (time.perf_counter() - started) * 1000, error))

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(options.clients)))
    return summarise(outcomes, time.perf_counter() - started)


def load_inputs(
    options: LoadOptions,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], str | None]:
    """The store's articles, the held-back articles for ingests, the questions, and the as-of date of the asks."""
    records = load_corpus(options.corpus)
    if options.held_back >= len(records):
        raise ValueError(f"held_back ({options.held_back}) must be smaller than the corpus ({len(records)})")
    base_records, held_back = records[: len(records) - options.held_back], records[-options.held_back :]
    if options.limit_articles:
        base_records = base_records[: options.limit_articles]
    queries = [q.text for q in load_queries(options.queries, include_null=True)]
    dates = [str(r["published_at"]) for r in base_records if r.get("published_at")]
    return base_records, held_back, queries, max(dates) if dates else None


def run_load(options: LoadOptions, console: Console) -> dict[str, Any]:
    base_records, held_back, queries, as_of = load_inputs(options)
    result: dict[str, Any] = {"options": {k: str(v) for k, v in asdict(options).items()}}
    with tempfile.TemporaryDirectory(prefix="newsdesk-load-") as tmp:
        data_dir = Path(tmp) / "data"
        if options.store:
            shutil.copytree(options.store, data_dir)
            console.print(f"store: a copy of {options.store}")
        else:
            build_store(data_dir, base_records, console)
        # The per-client rate limit would answer most of the load with 429s (every client here is 127.0.0.1):
        # the load test measures what the server can do, so it runs without one.
        server_env = {"NEWSDESK_RATE_LIMIT_PER_MINUTE": "0"}
        result["server_env"] = server_env
        with running_server(data_dir, Path(tmp) / "server.log", server_env) as base_url:
            health = httpx.get(f"{base_url}/healthz", timeout=30).json()
            result["store"] = {"articles": health["articles"], "chunks": health["chunks"]}
            console.print(
                f"server {base_url}: {health['articles']} articles, {health['chunks']} chunks; "
                f"{options.clients} clients for {options.duration_s:.0f} s"
            )
            result["load"] = asyncio.run(drive(base_url, queries, ingest_bodies(held_back), options, as_of))
        result["server_log_tail"] = (Path(tmp) / "server.log").read_text(errors="replace")[-2000:]
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "load.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def build_store(
    data_dir: Path, records: Sequence[dict[str, Any]], console: Console, **settings: Any
) -> None:
    from ingest.pipeline import Ingestor
    from rag.pipeline import build_services
    from rag.settings import Settings

    services = build_services(Settings(data_dir=data_dir, **settings))
    try:
        started = time.perf_counter()
        report = Ingestor(services).ingest(list(records))
        console.print(f"store: {report.summary()} in {time.perf_counter() - started:.0f} s")
    finally:
        services.close()


def print_load(result: dict[str, Any], console: Console) -> None:
    load = result["load"]
    table = Table(
        title=f"load: {load['requests']} requests in {load['elapsed_s']} s, {load['errors']} errors"
    )
    for column in ("op", "n", "errors", "per s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right" if column != "op" else "left")
    for op, figures in load["ops"].items():
        table.add_row(
            op,
            *(str(figures[k]) for k in ("n", "errors", "per_s", "p50_ms", "p95_ms", "p99_ms")),
        )
    console.print(table)
