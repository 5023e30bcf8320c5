"""`newsdesk chat`: an interactive conversation over the ingested news; follow-ups keep their context.

Reads lines from stdin when it is not a terminal (`printf 'q1\\nq2\\n' | newsdesk chat`), so it can be scripted.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.prompt import Prompt
from rich.text import Text

from newsdesk.output import console
from rag.settings import Settings
from rag.types import ChatReply

HELP = "Ask about the news; follow-ups keep their context. /new starts a new conversation, /quit ends."


def print_reply(out: Console, reply: ChatReply) -> None:
    answer = reply.answer
    out.print(Text(answer.answer))
    for citation in answer.citations:
        date = citation.published_at.date().isoformat() if citation.published_at else "undated"
        out.print(Text(f"  [{citation.n}] {citation.title} — {citation.source}, {date}", style="cyan"))
        out.print(Text(f'      "{citation.quote}"', style="dim"))
    out.print(Text(f"({answer.status}, turn {reply.turn})", style="dim"))


def read_line(interactive: bool) -> str | None:
    """The next message, or None at the end of input."""
    if interactive:
        try:
            return Prompt.ask("[bold green]you[/bold green]")
        except (EOFError, KeyboardInterrupt):
            return None
    line = sys.stdin.readline()
    return line if line else None


def chat(
    source: Annotated[list[str] | None, typer.Option(help="Only this outlet (repeatable).")] = None,
    k: Annotated[int | None, typer.Option(min=1, max=50, help="Passages to retrieve per turn.")] = None,
) -> None:
    """Chat with the news: cited, verified answers; follow-up questions are resolved from the conversation."""
    from rag.answering.chat import chat as chat_turn
    from rag.llm.llms import WriterUnavailable
    from rag.pipeline import build_services
    from rag.storage.conversations import ConversationStore
    from rag.types import Filters

    settings = Settings()
    services = build_services(settings)
    try:
        if services.registry.counts()[0] == 0:
            console.print("[red]error:[/red] no articles ingested yet; run `newsdesk ingest PATH` first")
            raise typer.Exit(2)
        conversations = ConversationStore.from_settings(settings)
        filters = Filters(sources=source or [])
        interactive = sys.stdin.isatty()
        out = Console(
            soft_wrap=True
        )  # answers and quotes are not cut into lines: piped output stays greppable
        if interactive:
            out.print(Text(HELP, style="dim"))
        conversation_id: str | None = None
        while (line := read_line(interactive)) is not None:
            message = line.strip()
            if not message:
                continue
            if message in ("/quit", "/exit"):
                break
            if message == "/new":
                conversation_id = None
                out.print(Text("(new conversation)", style="dim"))
                continue
            if message.startswith("/"):
                out.print(Text(f"unknown command {message}; {HELP}", style="yellow"))
                continue
            if len(message) > settings.max_question_chars:
                out.print(Text(f"the message is over {settings.max_question_chars} characters", style="red"))
                continue
            try:
                reply = chat_turn(services, conversations, message, conversation_id, filters, k)
            except WriterUnavailable as exc:
                console.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(1) from exc
            conversation_id = reply.conversation_id
            print_reply(out, reply)
    finally:
        services.close()
