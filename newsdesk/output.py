"""What every CLI module shares: the stderr console for progress and errors, its progress bar, and the missing-input
check."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def progress_bar() -> Progress:
    """A progress bar on the stderr console, off when neither it nor stderr is a terminal (CI logs, pipes)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal and not sys.stderr.isatty(),
    )


def require_existing(*paths: Path) -> None:
    """Exit 2 with a message naming the first path that does not exist, before any work starts."""
    for path in paths:
        if not path.exists():
            console.print(f"[red]error:[/red] {path} does not exist")
            raise typer.Exit(2)


def parse_news_time(value: str, option: str) -> datetime:
    """An ISO 8601 date or date-time from a command-line option (no zone: UTC, as at ingest), within the API's
    bounds; otherwise a one-line error and exit 2."""
    from api.schemas import EARLIEST, LATEST

    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        console.print(
            f"[red]error:[/red] {option} {value!r} is not an ISO date or date-time "
            "(e.g. 2026-10-07 or 2026-10-07T18:00:00+02:00)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not EARLIEST <= parsed <= LATEST:
        console.print(
            f"[red]error:[/red] {option} must be between 1800-01-01 and 2200-12-31",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    return parsed
