"""What every CLI module shares: the stderr console for progress and errors, and the missing-input check."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def require_existing(*paths: Path) -> None:
    """Exit 2 with a message naming the first path that does not exist, before any work starts."""
    for path in paths:
        if not path.exists():
            console.print(f"[red]error:[/red] {path} does not exist")
            raise typer.Exit(2)
