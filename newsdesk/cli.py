"""newsdesk CLI: ingest, ask, serve, eval."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import rag  # noqa: F401  (sets the no-telemetry environment before any SDK import)
from newsdesk.chat_cli import chat
from newsdesk.eval_cli import eval_app
from newsdesk.feeds_cli import feeds_app
from newsdesk.loadtest_cli import loadtest
from newsdesk.mcp_cli import mcp
from newsdesk.models_cli import models_app
from newsdesk.output import console, parse_news_time, progress_bar, require_existing
from newsdesk.summarize_cli import summarize
from newsdesk.worker_cli import worker
from rag.settings import Settings

app = typer.Typer(
    help="Grounded news Q&A: ingest news, ask questions, get cited and verified answers.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
app.add_typer(feeds_app, name="feeds")




@app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files or folders: .json, .jsonl, .txt (headline line = title), .html; or http(s):// URLs"
        ),
    ],
) -> None:
    """Ingest news articles; re-ingesting unchanged articles adds nothing, changed ones replace their chunks."""
    from ingest.fetch import fetch_records, is_url
    from ingest.loaders import UnsupportedFile, expand_paths, read_records
    from ingest.pipeline import Ingestor
    from rag.pipeline import build_services

    urls = [p for p in paths if is_url(p)]
    try:
        files = expand_paths([Path(p) for p in paths if not is_url(p)])
    except UnsupportedFile as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    records = [record for path in files for record in read_records(path)]
    settings = Settings()
    if urls:
        records += fetch_records(urls, settings)
    services = build_services(settings)
    ingestor = Ingestor(services)
    ingestor.reconcile()
    with progress_bar() as progress:
        task = progress.add_task("ingesting", total=len(records))
        report = ingestor.ingest(records, progress=lambda n: progress.advance(task, n))
    for decoding in report.decoded:
        console.print(f"decoded {decoding.file} from {decoding.encoding} (not UTF-8)", markup=False)
    for rejection in report.rejected:
        console.print(f"[yellow]rejected[/yellow] {rejection.origin}: {rejection.reason}")
    typer.echo(report.summary())
    services.close()
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in your own words.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full response as JSON.")] = False,
    source: Annotated[list[str] | None, typer.Option(help="Only this outlet (repeatable).")] = None,
    k: Annotated[int | None, typer.Option(help="Passages to retrieve.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="Read relative dates in the question (\"yesterday\", \"last week\") as of this ISO date or "
            "date-time (default: now; no zone means UTC).",
        ),
    ] = None,
) -> None:
    """Answer a question from the ingested news, citing passages; says so when the sources do not hold it."""
    from rag.pipeline import ask as ask_question
    from rag.pipeline import build_services
    from rag.types import Filters

    as_of_time = parse_news_time(as_of, "--as-of") if as_of is not None else None
    services = build_services(Settings())
    if services.registry.counts()[0] == 0:
        console.print("[red]error:[/red] no articles ingested yet; run `newsdesk ingest PATH` first")
        raise typer.Exit(2)
    try:
        answer = ask_question(services, question, Filters(sources=source or []), k, as_of_time)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("")
    for citation in answer.citations:
        date = citation.published_at.date().isoformat() if citation.published_at else "undated"
        typer.echo(
            f"[{citation.n}] {citation.title} — {citation.source}, {date} (chars {citation.start}-{citation.end})"
        )
        typer.echo(f'    "{citation.quote}"')
    typer.echo(f"\nstatus: {answer.status}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default NEWSDESK_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default NEWSDESK_PORT, 8000).")] = None,
    scheduler: Annotated[
        bool | None,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Refresh feeds on their schedule in this process (default NEWSDESK_FEED_SCHEDULER, on); "
            "off when a `newsdesk worker` does it.",
        ),
    ] = None,
) -> None:
    """Start the HTTP API (OpenAPI docs at /docs) and, unless turned off, the feed scheduler.

    Replicas on several hosts share NEWSDESK_DATABASE_URL (PostgreSQL) and NEWSDESK_CHROMA_URL (a Chroma server);
    run them with --no-scheduler beside one `newsdesk worker` (README: Deployment)."""
    import uvicorn

    from api.app import create_app
    from api.security import UnsafeExposure

    settings = Settings()
    bind_host, bind_port = host or settings.host, port or settings.port
    # The app checks the address it is really served on (no open API on a public interface).
    settings = settings.model_copy(update={"host": bind_host, "port": bind_port})
    if scheduler is not None:
        settings = settings.model_copy(update={"feed_scheduler": scheduler})
    try:
        application = create_app(settings)
    except UnsafeExposure as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    shared = " (registry, feeds, chats and rate limits in PostgreSQL)" if settings.database_url else ""
    console.print(
        f"newsdesk API on http://{bind_host}:{bind_port} (docs: /docs) — data in {settings.data_dir}{shared}"
    )
    uvicorn.run(application, host=bind_host, port=bind_port, log_level="info")


@app.command()
def bench(
    out: Annotated[Path, typer.Option(help="Folder for bench.json")] = Path("eval-out/bench"),
    corpus: Annotated[Path, typer.Option(help="MultiHop-RAG style corpus.json")] = Path(
        "../shared/data/multihop/corpus.json"
    ),
    queries: Annotated[Path, typer.Option(help="Queries for the latency runs")] = Path(
        "../shared/data/multihop/queries_dev.json"
    ),
    limit_articles: Annotated[int | None, typer.Option(help="Only the first N articles (quick run).")] = None,
    limit_queries: Annotated[int | None, typer.Option(help="Only the first N queries for retrieval.")] = None,
    ask_queries: Annotated[int, typer.Option(help="Queries (evenly sampled) for the ask latency.")] = 100,
    embed_sample: Annotated[
        int, typer.Option(help="Chunk texts (evenly sampled) for the raw embedding runs; 0: all.")
    ] = 500,
    scale: Annotated[
        int, typer.Option(help="Also time retrieval in a store scaled up to N chunks (e.g. 100000); 0: off.")
    ] = 0,
    baseline: Annotated[
        bool, typer.Option(help="Run the sentence-transformers baseline (needs torch; see make bench-venv).")
    ] = True,
    baseline_python: Annotated[
        Path | None, typer.Option(help="Interpreter with torch + sentence-transformers (default: auto).")
    ] = None,
    http: Annotated[bool, typer.Option(help="Also time /v1/ask through the HTTP app (TestClient).")] = True,
) -> None:
    """Speed and scale: ingest throughput, embedding vs the sentence-transformers baseline, re-ingest, retrieval
    and ask latency (p50/p95), peak RSS. Temporary stores only; writes OUT/bench.json."""
    from evals.bench import BenchOptions, print_table, run_bench

    require_existing(corpus, queries)
    options = BenchOptions(
        corpus=corpus,
        queries=queries,
        out=out,
        limit_articles=limit_articles,
        limit_queries=limit_queries,
        ask_queries=ask_queries,
        embed_sample=embed_sample,
        scale=scale,
        baseline=baseline,
        baseline_python=baseline_python,
        http=http,
    )
    result = run_bench(options, console=console)
    print_table(result, Console())
    typer.echo(f"wrote {out / 'bench.json'}")


def main() -> None:
    app()


app.command("loadtest")(loadtest)
app.command("chat")(chat)
app.command("summarize")(summarize)
app.command("worker")(worker)
app.command("mcp")(mcp)


if __name__ == "__main__":
    main()
