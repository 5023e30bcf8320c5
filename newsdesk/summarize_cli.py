"""`newsdesk summarize` (briefs, digests, timelines) and `newsdesk eval summaries`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from newsdesk.output import console, require_existing
from rag.settings import Settings

out = Console(highlight=False, soft_wrap=True)


def summarize(
    kind: Annotated[
        Literal["brief", "digest", "timeline"], typer.Option(help="brief (one article) | digest | timeline")
    ] = "brief",
    article: Annotated[
        list[str] | None, typer.Option(help="Article id (repeatable; a brief takes one).")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Find the articles by searching this text.")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only this outlet (repeatable).")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only articles published at or after (ISO 8601).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(help="Only articles published at or before (ISO 8601).")
    ] = None,
    max_sentences: Annotated[
        int | None, typer.Option(min=1, max=20, help="At most this many sentences.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full summary as JSON.")] = False,
) -> None:
    """Summarise ingested news; every sentence cites its passage and is verified against it."""
    from rag.pipeline import build_services
    from rag.summaries.summarize import SummaryRequest, UnknownArticle
    from rag.summaries.summarize import summarize as make_summary
    from rag.types import Filters

    services = build_services(Settings())
    try:
        if services.registry.counts()[0] == 0:
            console.print("[red]error:[/red] no articles ingested yet; run `newsdesk ingest PATH` first")
            raise typer.Exit(2)
        request = SummaryRequest(
            kind=kind,
            article_ids=article or [],
            topic=topic,
            filters=Filters(sources=source or [], since=since, until=until),
            max_sentences=max_sentences,
        )
        summary = make_summary(services, request)
    except (UnknownArticle, ValueError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    finally:
        services.close()
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
        return
    out.print(escape(summary.text))
    if summary.citations:
        out.print("")
    for citation in summary.citations:
        date = citation.published_at.date().isoformat() if citation.published_at else "undated"
        copies = f" (also: {', '.join(citation.copies)})" if citation.copies else ""
        out.print(
            f"[bold][{citation.n}][/bold] {escape(citation.title)} — {escape(citation.source)}, {date} "
            f"[dim](chars {citation.start}-{citation.end}){escape(copies)}[/dim]"
        )
        out.print(f'    [italic]"{escape(citation.quote)}"[/italic]')
    out.print(f"\nstatus: {summary.status} · articles: {', '.join(summary.articles) or '-'}")


def eval_summaries(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for summary.json and results.jsonl")],
    data: Annotated[Path, typer.Option(help="writer_summaries.json (article_id, article, summary)")] = Path(
        "../shared/data/summaries/writer_summaries.json"
    ),
    writer: Annotated[str, typer.Option(help="extractive | local | openai")] = "extractive",
    limit: Annotated[int | None, typer.Option(help="Only the first N articles.")] = None,
    embedder: Annotated[str, typer.Option(help="minilm | hashing (hashing: fast, for tests)")] = "minilm",
) -> None:
    """Briefs of the writer-summarised CNN/DM articles: ROUGE-L F1 against the writers, supported share, timings."""
    from evals.summaries import run_summaries_eval

    require_existing(data)
    summary = run_summaries_eval(
        data, out_dir, writer=writer, limit=limit, embedder=embedder, console=console
    )
    typer.echo(json.dumps(summary, indent=2))
