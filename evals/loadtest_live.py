"""`newsdesk loadtest --live`: asks under a steady stream of writes, against a read-only phase of the same run.

One real server (`newsdesk serve` over a temporary copy of a store). ``clients`` ask clients loop for the whole run;
the first ``read_only_s`` seconds only ask, then a writer POSTs ``write_batch`` articles to /v1/ingest every
``write_every_s`` seconds (held-back corpus articles first, then changed versions of them: updates) for
``duration_s`` seconds, as a feed worker would. Reported: ask p50/p95/p99, errors and throughput in the read-only
phase, the live phase and the moments a write was in flight; each write's latency; and, for ``probes`` articles of
each write, when the first ask that cites the new version (its chunk ids are read back after the write) was sent,
counted from the moment the write was sent and from the moment it returned; probes ask every 0.25 s.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from evals.loadtest import REQUEST_TIMEOUT_S, build_store, ingest_bodies, percentile
from evals.multihop import load_corpus, load_queries
from evals.server import running_server

PROBE_TIMEOUT_S = 60.0
PROBE_EVERY_S = 0.25


@dataclass
class LiveOptions:
    corpus: Path
    queries: Path
    out: Path
    clients: int = 20
    read_only_s: float = 60.0
    duration_s: float = 180.0  # the live phase
    write_every_s: float = 30.0
    write_batch: int = 20
    held_back: int = 60
    probes: int = 5  # articles of each write whose visibility is measured
    limit_articles: int | None = None
    store: Path | None = None
    seed: int = 0


@dataclass
class Timed:
    started: float  # seconds since the run began
    ms: float
    status: int  # 0: transport error
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Record:
    asks: list[Timed] = field(default_factory=list)
    writes: list[Timed] = field(default_factory=list)
    visible_from_submit_ms: list[float] = field(default_factory=list)
    visible_from_commit_ms: list[float] = field(default_factory=list)
    probes_unseen: int = 0


def ask_figures(asks: Sequence[Timed], seconds: float) -> dict[str, Any]:
    ok = [a.ms for a in asks if a.ok]
    return {
        "n": len(asks),
        "errors": len(asks) - len(ok),
        "per_s": round(len(asks) / seconds, 2) if seconds > 0 else 0.0,
        "p50_ms": percentile(ok, 0.50),
        "p95_ms": percentile(ok, 0.95),
        "p99_ms": percentile(ok, 0.99),
    }


def summarise_live(record: Record, options: LiveOptions, elapsed_s: float) -> dict[str, Any]:
    # Asks stop at the end of the live phase; the run may go on a little for the last probes.
    end = min(elapsed_s, options.read_only_s + options.duration_s)
    live_s = max(end - options.read_only_s, 0.0)
    windows = _merged(
        [(w.started, min(w.started + w.ms / 1000, end)) for w in record.writes if w.started < end]
    )
    writing_s = sum(stop - start for start, stop in windows)

    def writing_at(moment: float) -> bool:
        return any(start <= moment < stop for start, stop in windows)

    read_only = ask_figures([a for a in record.asks if a.started < options.read_only_s], options.read_only_s)
    live_asks = [a for a in record.asks if a.started >= options.read_only_s]
    live = ask_figures(live_asks, live_s)
    writing = ask_figures([a for a in live_asks if writing_at(a.started)], writing_s)
    between = ask_figures([a for a in live_asks if not writing_at(a.started)], live_s - writing_s)
    ok_writes = [w.ms for w in record.writes if w.ok]
    return {
        "elapsed_s": round(elapsed_s, 1),
        "asks": {"read_only": read_only, "live": live, "while_writing": writing, "between_writes": between},
        "writing_share_of_live": round(writing_s / live_s, 3) if live_s else None,
        "throughput_live_vs_read_only": round(live["per_s"] / read_only["per_s"], 3)
        if read_only["per_s"]
        else None,
        "throughput_writing_vs_read_only": (
            round(writing["per_s"] / read_only["per_s"], 3) if read_only["per_s"] else None
        ),
        "writes": {
            "n": len(record.writes),
            "errors": len(record.writes) - len(ok_writes),
            "articles_each": options.write_batch,
            "p50_ms": percentile(ok_writes, 0.5),
            "p95_ms": percentile(ok_writes, 0.95),
        },
        "searchable": {
            "probed": len(record.visible_from_submit_ms) + record.probes_unseen,
            "unseen": record.probes_unseen,
            "from_submit_p50_ms": percentile(record.visible_from_submit_ms, 0.5),
            "from_submit_p95_ms": percentile(record.visible_from_submit_ms, 0.95),
            "from_commit_p50_ms": percentile(record.visible_from_commit_ms, 0.5),
            "from_commit_p95_ms": percentile(record.visible_from_commit_ms, 0.95),
        },
        "errors": sum(not a.ok for a in record.asks) + sum(not w.ok for w in record.writes),
        "error_samples": [asdict(t) for t in [*record.asks, *record.writes] if not t.ok][:10],
    }


def _merged(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping (start, end) windows joined, so no moment counts twice."""
    merged: list[tuple[float, float]] = []
    for start, stop in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


async def drive_live(
    base_url: str, questions: Sequence[str], articles: Iterator[dict[str, Any]], options: LiveOptions
) -> dict[str, Any]:
    record = Record()
    begun = time.monotonic()
    end = begun + options.read_only_s + options.duration_s

    def now() -> float:
        return time.monotonic() - begun

    async def timed(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> tuple[Timed, Any]:
        started = now()
        try:
            response = await http.request(method, path, json=body)
            status = response.status_code
            payload = response.json() if response.is_success else None
            error = "" if response.is_success else response.text[:300]
        except httpx.HTTPError as exc:
            status, payload, error = 0, None, f"{type(exc).__name__}: {exc}"
        return Timed(round(started, 3), (now() - started) * 1000, status, error), payload

    async def asker(number: int) -> None:
        rng = random.Random(options.seed * 1000 + number)
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as http:
            while time.monotonic() < end:
                outcome, _ = await timed(http, "POST", "/v1/ask", {"question": rng.choice(questions)})
                record.asks.append(outcome)

    async def probe(
        http: httpx.AsyncClient, article_id: str, article: dict[str, Any], sent: float, committed: float
    ) -> None:
        _, stored = await timed(http, "GET", f"/v1/articles/{article_id}")
        chunk_ids = {c["id"] for c in (stored or {}).get("chunks", [])}
        question: dict[str, Any] = {"question": article["title"], "filters": {"sources": [article["source"]]}}
        published = article.get("published_at")
        if published:
            moment = datetime.fromisoformat(str(published))
            question["filters"].update(
                since=(moment - timedelta(days=1)).isoformat(), until=(moment + timedelta(days=1)).isoformat()
            )
        while chunk_ids and now() - sent < PROBE_TIMEOUT_S:
            asked, answer = await timed(http, "POST", "/v1/ask", question)
            if answer and any(c["chunk_id"] in chunk_ids for c in answer.get("citations", [])):
                # When the first ask that found the new version was sent (its own latency is not freshness).
                record.visible_from_submit_ms.append((asked.started - sent) * 1000)
                record.visible_from_commit_ms.append((asked.started - committed) * 1000)
                return
            await asyncio.sleep(PROBE_EVERY_S)
        record.probes_unseen += 1

    async def writer() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as http:
            await asyncio.sleep(options.read_only_s)
            probes: list[asyncio.Task[None]] = []
            next_write = time.monotonic()
            while next_write < end and time.monotonic() < end:  # a write running late may pass its slot
                batch = [next(articles) for _ in range(options.write_batch)]
                outcome, reply = await timed(http, "POST", "/v1/ingest", {"articles": batch})
                record.writes.append(outcome)
                if outcome.ok and reply:
                    sent, committed = outcome.started, outcome.started + outcome.ms / 1000
                    # The reply lists the batch's article ids in order (corpus records may carry none).
                    chosen = list(zip(reply["article_ids"], batch, strict=True))[: options.probes]
                    probes += [asyncio.create_task(probe(http, i, a, sent, committed)) for i, a in chosen]
                next_write += options.write_every_s
                await asyncio.sleep(max(0.0, next_write - time.monotonic()))
            await asyncio.gather(*probes)

    await asyncio.gather(writer(), *(asker(n) for n in range(options.clients)))
    return summarise_live(record, options, now())


def run_live_load(options: LiveOptions, console: Console) -> dict[str, Any]:
    records = load_corpus(options.corpus)
    if options.held_back >= len(records) or options.write_batch > options.held_back:
        raise ValueError(
            f"need write_batch ({options.write_batch}) <= held_back ({options.held_back}) < corpus ({len(records)})"
        )
    base_records, held_back = records[: len(records) - options.held_back], records[-options.held_back :]
    if options.limit_articles:
        base_records = base_records[: options.limit_articles]
    questions = [q.text for q in load_queries(options.queries, include_null=True)]
    result: dict[str, Any] = {"mode": "live", "options": {k: str(v) for k, v in asdict(options).items()}}
    with tempfile.TemporaryDirectory(prefix="newsdesk-live-") as tmp:
        data_dir = Path(tmp) / "data"
        if options.store:
            shutil.copytree(options.store, data_dir)
        else:
            build_store(data_dir, base_records, console)
        server_env = {"NEWSDESK_RATE_LIMIT_PER_MINUTE": "0"}  # every client is 127.0.0.1 (see loadtest.py)
        result["server_env"] = server_env
        with running_server(data_dir, Path(tmp) / "server.log", server_env) as base_url:
            health = httpx.get(f"{base_url}/healthz", timeout=30).json()
            result["store"] = {"articles": health["articles"], "chunks": health["chunks"]}
            console.print(
                f"server {base_url}: {health['articles']} articles, {health['chunks']} chunks; {options.clients} "
                f"ask clients, {options.read_only_s:.0f} s read-only then {options.duration_s:.0f} s with "
                f"{options.write_batch} articles written every {options.write_every_s:.0f} s"
            )
            result["load"] = asyncio.run(drive_live(base_url, questions, ingest_bodies(held_back), options))
        result["server_log_tail"] = (Path(tmp) / "server.log").read_text(errors="replace")[-2000:]
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "live.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def print_live(result: dict[str, Any], console: Console) -> None:
    load = result["load"]
    table = Table(title=f"live load: {load['elapsed_s']} s, {load['errors']} errors")
    for column in ("asks", "n", "errors", "per s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right" if column != "asks" else "left")
    for phase, figures in load["asks"].items():
        table.add_row(
            phase, *(str(figures[k]) for k in ("n", "errors", "per_s", "p50_ms", "p95_ms", "p99_ms"))
        )
    console.print(table)
    writes, seen = load["writes"], load["searchable"]
    console.print(
        f"writes: {writes['n']} x {writes['articles_each']} articles, p50 {writes['p50_ms']} ms, p95 "
        f"{writes['p95_ms']} ms; throughput live/read-only {load['throughput_live_vs_read_only']}, while writing "
        f"{load['throughput_writing_vs_read_only']}; searchable after commit p50 {seen['from_commit_p50_ms']} ms, "
        f"p95 {seen['from_commit_p95_ms']} ms (from submit p50 {seen['from_submit_p50_ms']} ms, p95 "
        f"{seen['from_submit_p95_ms']} ms; {seen['unseen']} of {seen['probed']} probes never cited)"
    )
