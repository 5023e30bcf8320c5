"""newsdesk CLI: ingest, ask, serve, eval."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import rag  # noqa: F401  (sets the no-telemetry environment before any SDK import)
from newsdesk.chat_cli import chat
from newsdesk.loadtest_cli import loadtest
from newsdesk.mcp_cli import mcp
from newsdesk.models_cli import models_app
from newsdesk.output import console, parse_news_time, require_existing
from newsdesk.summarize_cli import eval_summaries, summarize
from newsdesk.worker_cli import worker
from rag.settings import Settings

app = typer.Typer(
    help="Grounded news Q&A: ingest news, ask questions, get cited and verified answers.",
    no_args_is_help=True,
)
eval_app = typer.Typer(
    help="Evaluation suites over real news (writes DIR/summary.json).", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal and not sys.stderr.isatty(),
    )


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
    with _progress() as progress:
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


@eval_app.command("retrieval")
def eval_retrieval(
    corpus: Annotated[Path, typer.Option(help="MultiHop-RAG style corpus.json")],
    queries: Annotated[Path, typer.Option(help="MultiHop-RAG style queries JSON")],
    out: Annotated[Path, typer.Option(help="Folder for summary.json and results.jsonl")],
    mode: Annotated[str, typer.Option(help="hybrid | dense | keyword")] = "hybrid",
    limit: Annotated[int | None, typer.Option(help="Only the first N non-null queries.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Reuse this store (default: a temporary one).")
    ] = None,
) -> None:
    """Retrieval quality (official MultiHop-RAG hit rule): hits@k, MRR@10 per question type, latency."""
    from evals.retrieval import run_retrieval_eval

    summary = run_retrieval_eval(
        corpus, queries, out, mode=mode, limit=limit, data_dir=data_dir, console=console
    )
    typer.echo(json.dumps(summary, indent=2))


@eval_app.command("answers")
def eval_answers(
    corpus: Annotated[Path, typer.Option(help="MultiHop-RAG style corpus.json")],
    queries: Annotated[Path, typer.Option(help="MultiHop-RAG style queries JSON (null queries included)")],
    out: Annotated[Path, typer.Option(help="Folder for summary.json and results.jsonl")],
    writer: Annotated[str, typer.Option(help="extractive | local | openai")] = "extractive",
    limit: Annotated[int | None, typer.Option(help="A stratified sample of N queries.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    k: Annotated[int | None, typer.Option(help="Passages handed to the writer.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Store to use (ingested if empty); default ./eval-out/store")
    ] = None,
) -> None:
    """Answer accuracy (strict), abstention, citation precision/recall and supported-sentence share for a writer."""
    from evals.answers import run_answer_eval, sample_queries
    from evals.multihop import load_corpus
    from ingest.articles import to_article
    from ingest.pipeline import Ingestor
    from rag.pipeline import build_services

    overrides: dict[str, object] = {"writer": writer, "data_dir": data_dir or Path("eval-out/store")}
    if k:
        overrides["retrieve_k"] = k
    services = build_services(Settings(**overrides))  # type: ignore[arg-type]
    records = load_corpus(corpus)
    with _progress() as progress:
        task = progress.add_task("ingesting corpus (unchanged articles are skipped)", total=len(records))
        Ingestor(services).ingest(records, progress=lambda n: progress.advance(task, n))
    url_of = {to_article(r).id: str(r.get("url", "")) for r in records}
    summary = run_answer_eval(
        services, sample_queries(queries, limit, seed), out, url_of=url_of, console=console
    )
    typer.echo(json.dumps(summary, indent=2))


@eval_app.command("cases")
def eval_cases(
    out: Annotated[Path, typer.Option(help="Folder for summary.json and results.jsonl")],
    cases: Annotated[
        Path | None, typer.Option(help="Eval set in newsdesk JSONL (see evals/cases.py)")
    ] = None,
    corpus: Annotated[list[Path] | None, typer.Option(help="Articles to ingest first (repeatable)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Store to use (default: a temporary one)")] = None,
) -> None:
    """Run an eval set (ours by default: the fictional sample news) and score answers, abstention, citations."""
    import tempfile

    from evals.cases import OWN_CASES, OWN_CORPUS, load_cases, run_cases
    from ingest.loaders import expand_paths, read_records
    from ingest.pipeline import Ingestor
    from rag.pipeline import build_services

    try:
        loaded = load_cases(cases or OWN_CASES)
        files = expand_paths(corpus or ([] if cases else OWN_CORPUS))
    except (ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    with tempfile.TemporaryDirectory(prefix="newsdesk-cases-") as tmp:
        services = build_services(Settings(data_dir=data_dir or Path(tmp)))
        report = Ingestor(services).ingest([r for path in files for r in read_records(path)])
        console.print(f"corpus: {report.summary()}")
        summary = run_cases(services, loaded, out)
        services.close()
    typer.echo(json.dumps(summary, indent=2))


@eval_app.command("smoke")
def eval_smoke(
    out: Annotated[Path, typer.Option(help="Folder for summary.json and per-suite results")],
    shared_data: Annotated[Path, typer.Option(help="The shared data folder")] = Path("../shared/data"),
    baseline: Annotated[Path | None, typer.Option(help="Fail when worse than this summary.json")] = None,
    tolerance: Annotated[float, typer.Option(help="Allowed drop per gated metric")] = 0.02,
    seed: Annotated[int, typer.Option(help="Sampling seed for the dev queries")] = 0,
) -> None:
    """Fast eval for CI: our eval set + a fixed sample of MultiHop-RAG dev queries; gate on the baseline."""
    from evals.smoke import run_smoke

    base = _summary(baseline) if baseline is not None else None
    summary = run_smoke(out, shared_data, seed=seed)
    typer.echo(json.dumps(summary, indent=2))
    if base is not None:
        _gate(base, summary, tolerance)


@eval_app.command("all")
def eval_all(
    out: Annotated[Path, typer.Option(help="Folder for summary.json, results.jsonl and report.html")],
    shared_data: Annotated[Path, typer.Option(help="The shared data folder")] = Path("../shared/data"),
    limit: Annotated[int | None, typer.Option(help="Only N dev queries per suite (default: all)")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed")] = 0,
    data_dir: Annotated[
        Path | None, typer.Option(help="Store for the corpus (default: OUT/store, reused)")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="A summary.json to compare with in the report")
    ] = None,
) -> None:
    """Every suite: retrieval, answers/citations/abstention, own eval set, natural questions, verifier, summaries;
    writes a self-contained report.html that opens with a pass/fail table against --baseline."""
    from evals.all import run_all

    base = _summary(baseline) if baseline else None
    summary = run_all(
        out, shared_data, limit=limit, seed=seed, data_dir=data_dir, baseline=base, console=console
    )
    typer.echo(f"wrote {out / 'summary.json'}, {out / 'results.jsonl'}, {out / 'report.html'}")
    typer.echo(json.dumps({k: summary[k] for k in ("code_version", "writer")}, indent=2))


@eval_app.command("natural")
def eval_natural(
    out: Annotated[Path, typer.Option(help="Folder for summary.json and questions.jsonl")],
    shared_data: Annotated[Path, typer.Option(help="The shared data folder")] = Path("../shared/data"),
    setting: Annotated[
        list[str] | None, typer.Option(help="full | small | seed (repeatable; default all three)")
    ] = None,
    half: Annotated[str, typer.Option(help="Dev half: A | B | all")] = "all",
    writer: Annotated[
        str | None, typer.Option(help="extractive | local | openai (default NEWSDESK_WRITER)")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="A fixed stratified slice of N natural questions.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the small stores' other articles")] = 0,
    data_dir: Annotated[
        Path | None, typer.Option(help="The full store (default OUT/store; reused when it holds the corpus)")
    ] = None,
) -> None:
    """The hand-written natural questions over the full store, one small store per question, and the seed
    article: short answers, yes/no, two-part, abstention, citations, answer length, latency."""
    from evals.natural import SETTINGS, NaturalRun, run_natural

    chosen = setting or list(SETTINGS)
    wrong = [f"--setting {s!r}" for s in chosen if s not in SETTINGS]
    wrong += [f"--half {half!r}"] if half not in ("A", "B", "all") else []
    wrong += [f"--writer {writer!r}"] if writer not in (None, "extractive", "local", "openai") else []
    if wrong:
        console.print(f"[red]error:[/red] unknown {wrong[0]}")
        raise typer.Exit(2)
    needed = [shared_data / "natural" / "questions.json", shared_data / "seed" / "kharkiv.txt"]
    require_existing(*needed, *([shared_data / "multihop" / "corpus.json"] if set(chosen) - {"seed"} else []))
    run = NaturalRun(out, shared_data, chosen, half, writer, data_dir, seed, limit)
    try:
        summary = run_natural(run, console=console)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    typer.echo(json.dumps({s: _headline(summary[s]) for s in SETTINGS if s in summary}, indent=2))
    typer.echo(f"wrote {out / 'summary.json'} and {out / 'questions.jsonl'}")


def _headline(figures: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in figures.items() if k not in ("per_type", "by_half", "answerability_scores")}


@eval_app.command("compare")
def eval_compare(
    baseline: Annotated[Path, typer.Argument(help="Baseline run: its --out folder or summary.json")],
    current: Annotated[Path, typer.Argument(help="Current run: its --out folder or summary.json")],
    tolerance: Annotated[float, typer.Option(help="Allowed drop per gated metric")] = 0.02,
) -> None:
    """Print metric deltas between two runs; exit 1 if a gated metric regressed beyond the tolerance."""
    _gate(_summary(baseline), _summary(current), tolerance)


def _summary(path: Path) -> dict[str, object]:
    """An eval run's summary.json, given the file or the run's --out folder; a bad path exits 2 in one line."""
    from rich.markup import escape

    from evals.smoke import load_summary

    try:
        return load_summary(path)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None


def _gate(baseline: dict[str, object], current: dict[str, object], tolerance: float) -> None:
    from rich.table import Table

    from evals.smoke import compare

    rows = compare(baseline, current, tolerance)
    table = Table("metric", "baseline", "current", "delta", "")
    for row in rows:
        if row["baseline"] is None and row["current"] is None:
            continue
        mark = "[red]REGRESSED[/red]" if row["regressed"] else ("" if row["gated"] else "info")
        table.add_row(row["metric"], str(row["baseline"]), str(row["current"]), str(row["delta"]), mark)
    Console().print(table)
    regressed = [row["metric"] for row in rows if row["regressed"]]
    if regressed:
        console.print(f"[red]regression beyond {tolerance}:[/red] {', '.join(regressed)}")
        raise typer.Exit(1)
    console.print(f"no gated metric regressed beyond {tolerance}")


@eval_app.command("support")
def eval_support(
    out: Annotated[Path, typer.Option(help="Folder for summary.json and results.jsonl")],
    data: Annotated[
        Path, typer.Option(help="Folder with QAGS mturk_cnndm.jsonl and mturk_xsum.jsonl")
    ] = Path("../shared/data/support"),
    variant: Annotated[
        list[str] | None,
        typer.Option(help="minilm (packaged embedder) and/or none (repeatable; default both)"),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N sentences per dataset.")] = None,
) -> None:
    """The verifier's support score against human labels (QAGS): ROC-AUC, accuracy, best threshold."""
    from evals.support import run_support_eval

    summary = run_support_eval(
        data,
        out,
        min_support=Settings().min_support,
        variants=variant or ["minilm", "none"],
        limit=limit,
        console=console,
    )
    typer.echo(json.dumps(summary, indent=2))


feeds_app = typer.Typer(help="RSS/Atom feeds: subscribe, list, refresh (new or changed items only).")
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="The feed's http(s):// URL")],
    interval: Annotated[
        str | None,
        typer.Option(help="Time between refreshes, e.g. 90s, 5m, 1h (default NEWSDESK_FEED_INTERVAL_S, 15m)."),
    ] = None,
) -> None:
    """Subscribe to a feed: a running `serve` or `worker` fetches it within NEWSDESK_FEED_POLL_S, then on its
    interval; `newsdesk feeds refresh` fetches it now."""
    from ingest.feed_schedule import parse_interval
    from ingest.feeds import FeedError, FeedManager
    from ingest.pipeline import Ingestor
    from rag.pipeline import build_services

    try:
        interval_s = None if interval is None else parse_interval(interval)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    services = build_services(Settings())
    manager = FeedManager(Ingestor(services))
    try:
        feed, created = manager.add(url, interval_s)
    except FeedError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    finally:
        manager.close()
        services.close()
    every = f"every {feed.interval_s:g}s"
    typer.echo(f"{'added' if created else 'already subscribed'}: feed {feed.id} {feed.url} ({every})")


@feeds_app.command("list")
def feeds_list() -> None:
    """The subscribed feeds: items seen, articles added/updated, last and next refresh, last error."""
    from ingest.feeds import FeedManager
    from ingest.pipeline import Ingestor
    from rag.pipeline import build_services

    services = build_services(Settings())
    manager = FeedManager(Ingestor(services))
    feeds = manager.list()
    manager.close()
    services.close()
    for feed in feeds:
        state = f"error: {feed.last_error} ({feed.failures} in a row)" if feed.last_error else "ok"
        typer.echo(
            f"{feed.id}\t{feed.url}\t{feed.title or '-'}\t{feed.items} items\t"
            f"added {feed.articles_added}, updated {feed.articles_updated}\t"
            f"last {feed.last_checked or 'never'}\tnext {feed.next_refresh or 'now'}"
            f"{' (refreshing)' if feed.refreshing else ''}\t{state}"
        )
    typer.echo(f"{len(feeds)} feeds")


@feeds_app.command("refresh")
def feeds_refresh(
    feed: Annotated[list[str] | None, typer.Argument(help="Feed ids or URLs (default: all)")] = None,
) -> None:
    """Fetch the feeds, ingest new or changed items; exit 1 if a feed or an item failed."""
    from ingest.feeds import FeedManager
    from ingest.pipeline import Ingestor
    from rag.pipeline import build_services

    services = build_services(Settings())
    ingestor = Ingestor(services)
    ingestor.reconcile()
    manager = FeedManager(ingestor)
    with _progress() as progress:
        task = progress.add_task("refreshing feeds", total=None)
        report = manager.refresh(
            feed or None, progress=lambda msg: progress.update(task, description=msg[:80])
        )
    manager.close()
    services.close()
    for feed_report in report.feeds:
        if feed_report.error:
            console.print(f"[yellow]feed failed[/yellow] {feed_report.url}: {feed_report.error}")
        for item in feed_report.items:
            if item.status == "rejected":
                console.print(f"[yellow]rejected[/yellow] {item.link or item.guid}: {item.reason}")
    typer.echo(report.summary())
    counts = report.counts()
    if counts["rejected"] or counts["feed_errors"]:
        raise typer.Exit(1)


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
eval_app.command("summaries")(eval_summaries)


if __name__ == "__main__":
    main()
