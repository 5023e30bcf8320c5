"""`newsdesk loadtest --replicas N`: the mixed ask/ingest load of evals/loadtest.py against one `newsdesk serve`,
then against N replicas, all on one PostgreSQL (NEWSDESK_DATABASE_URL) and one `chroma run` server, in one run.

Everything is started here in a temporary directory: a PostgreSQL cluster (evals/pgserver.py), a Chroma server,
the store (the corpus less the held-back articles, embedded once), then the single replica for DURATION seconds,
then N replicas (own data dirs) for DURATION seconds with the clients spread evenly over them. The ingests carry on
from one phase to the next (new articles first, then changed versions). Writes OUT/replicas.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from evals.loadtest import LoadOptions, build_store, drive, ingest_bodies, load_inputs, print_load
from evals.pgserver import PgServer, why_unavailable
from evals.server import free_port, running_server, started_process


def chroma_command(path: Path, port: int) -> list[str]:
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        raise ValueError("the `chroma` CLI (chromadb package) is not installed in this environment")
    return [found, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]


def run_replicas_load(options: LoadOptions, replicas: int, console: Console) -> dict[str, Any]:
    reason = why_unavailable()
    if reason is not None:
        raise ValueError(reason)
    base_records, held_back, queries, as_of = load_inputs(options)
    articles = ingest_bodies(held_back)
    result: dict[str, Any] = {"options": {k: str(v) for k, v in asdict(options).items()}, "replicas": replicas}
    with tempfile.TemporaryDirectory(prefix="newsdesk-replicas-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        pg = PgServer()
        stack.callback(pg.close)
        chroma_port = free_port()
        chroma_url = f"http://127.0.0.1:{chroma_port}"
        stack.enter_context(
            started_process(
                chroma_command(root / "chroma", chroma_port),
                f"{chroma_url}/api/v2/heartbeat",
                root / "chroma.log",
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
                cwd=root,
                name="chroma",
            )
        )
        database_url = pg.new_database()
        build_store(root / "build", base_records, console, database_url=database_url, chroma_url=chroma_url)
        env = {
            "NEWSDESK_DATABASE_URL": database_url,
            "NEWSDESK_CHROMA_URL": chroma_url,
            "NEWSDESK_FEED_SCHEDULER": "false",
            "NEWSDESK_RATE_LIMIT_PER_MINUTE": "0",  # every client is 127.0.0.1: measure the servers, not the limit
        }
        result["server_env"] = {k: v for k, v in env.items() if k != "NEWSDESK_DATABASE_URL"}
        result["phases"] = {}
        for count in (1, replicas):
            with ExitStack() as servers:
                bases = [
                    servers.enter_context(running_server(root / f"r{count}-{i}", root / f"r{count}-{i}.log", env))
                    for i in range(count)
                ]
                health = httpx.get(f"{bases[0]}/healthz", timeout=30).json()
                console.print(
                    f"{count} replica(s): {health['articles']} articles, {health['chunks']} chunks; "
                    f"{options.clients} clients for {options.duration_s:.0f} s"
                )
                load = asyncio.run(drive(bases, queries, articles, options, as_of))
                result["phases"][str(count)] = {
                    "store": {"articles": health["articles"], "chunks": health["chunks"]},
                    "load": load,
                }
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "replicas.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def print_replicas(result: dict[str, Any], console: Console) -> None:
    for count, phase in result["phases"].items():
        console.print(f"[bold]{count} replica(s)[/bold]")
        print_load(phase, console)
