"""`newsdesk eval ...`: the evaluation suites (each writes DIR/summary.json), the comparison of two runs and the
baseline gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from newsdesk.output import console, progress_bar, require_existing
from newsdesk.summarize_cli import eval_summaries
from rag.settings import Settings

eval_app = typer.Typer(
    help="Evaluation suites over real news (writes DIR/summary.json).", no_args_is_help=True
)


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
    with progress_bar() as progress:
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


eval_app.command("summaries")(eval_summaries)
