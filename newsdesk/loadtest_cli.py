"""`newsdesk loadtest`: a real server under concurrent ask + ingest load (see evals/loadtest.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from newsdesk.output import console, require_existing


def loadtest(
    out: Annotated[Path, typer.Option(help="Folder for load.json")] = Path("eval-out/load"),
    corpus: Annotated[Path, typer.Option(help="MultiHop-RAG style corpus.json")] = Path(
        "../shared/data/multihop/corpus.json"
    ),
    queries: Annotated[Path, typer.Option(help="Questions to ask")] = Path(
        "../shared/data/multihop/queries_dev.json"
    ),
    clients: Annotated[int, typer.Option(min=1, max=500, help="Concurrent clients")] = 20,
    duration: Annotated[float, typer.Option(min=1, help="Seconds of load")] = 60.0,
    ingest_share: Annotated[float, typer.Option(min=0, max=1, help="Share of operations that ingest")] = 0.1,
    held_back: Annotated[
        int, typer.Option(min=1, help="Corpus articles kept for the ingest operations")
    ] = 60,
    limit_articles: Annotated[int | None, typer.Option(help="Only the first N articles in the store")] = None,
    store: Annotated[
        Path | None, typer.Option(help="Copy this built data dir instead of ingesting the corpus first")
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            help="Live mode: CLIENTS only ask; after --read-only seconds a writer posts --write-batch articles "
            "every --write-every seconds for DURATION seconds; writes OUT/live.json"
        ),
    ] = False,
    read_only: Annotated[float, typer.Option(min=1, help="Live mode: seconds of asks alone first")] = 60.0,
    write_every: Annotated[float, typer.Option(min=1, help="Live mode: seconds between writes")] = 30.0,
    write_batch: Annotated[int, typer.Option(min=1, help="Live mode: articles per write")] = 20,
    replicas: Annotated[
        int,
        typer.Option(
            min=0,
            help="Compare one replica with this many (own data dirs, one PostgreSQL and one Chroma server, all "
            "started here; needs PostgreSQL's server binaries); writes OUT/replicas.json",
        ),
    ] = 0,
) -> None:
    """Start a real server on 127.0.0.1 over a temporary store and drive it with concurrent clients that mix
    /v1/ask and /v1/ingest; prints throughput, p50/p95/p99 and errors; writes OUT/load.json. With --live: asks
    during a read-only phase and then under periodic writes, and how soon written articles are searchable."""
    from evals.loadtest import LoadOptions, print_load, run_load
    from evals.server import ServerFailed

    require_existing(corpus, queries)
    if store is not None and not (store / "articles.sqlite3").exists():
        console.print(f"[red]error:[/red] {store} is not a newsdesk data dir (no articles.sqlite3)")
        raise typer.Exit(2)
    options = LoadOptions(
        corpus=corpus,
        queries=queries,
        out=out,
        clients=clients,
        duration_s=duration,
        ingest_share=ingest_share,
        held_back=held_back,
        limit_articles=limit_articles,
        store=store,
    )
    if replicas:
        from evals.loadtest_replicas import print_replicas, run_replicas_load

        # The replicas load their own store on a PostgreSQL server; --store names a local data dir.
        replica_options = dataclasses.replace(options, store=None)
        try:
            replica_result = run_replicas_load(replica_options, replicas, console)
        except (ValueError, ServerFailed) as exc:
            console.print(f"[red]error:[/red] {exc}", markup=False)
            raise typer.Exit(1) from None
        print_replicas(replica_result, Console())
        typer.echo(f"wrote {out / 'replicas.json'}")
        phases = replica_result["phases"].values()
        raise typer.Exit(1 if any(p["load"]["errors"] for p in phases) else 0)
    if live:
        from evals.loadtest_live import LiveOptions, print_live, run_live_load

        live_options = LiveOptions(
            corpus=corpus,
            queries=queries,
            out=out,
            clients=clients,
            read_only_s=read_only,
            duration_s=duration,
            write_every_s=write_every,
            write_batch=write_batch,
            held_back=max(held_back, write_batch),
            limit_articles=limit_articles,
            store=store,
        )
        try:
            live_result = run_live_load(live_options, console)
        except (ValueError, ServerFailed) as exc:
            console.print(f"[red]error:[/red] {exc}", markup=False)
            raise typer.Exit(1) from None
        print_live(live_result, Console())
        typer.echo(f"wrote {out / 'live.json'}")
        raise typer.Exit(1 if live_result["load"]["errors"] else 0)
    try:
        result = run_load(options, console)
    except (ValueError, ServerFailed) as exc:
        console.print(f"[red]error:[/red] {exc}", markup=False)
        raise typer.Exit(1) from None
    print_load(result, Console())
    typer.echo(f"wrote {out / 'load.json'}")
    if result["load"]["errors"]:
        raise typer.Exit(1)
