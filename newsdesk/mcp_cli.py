"""`newsdesk mcp`: serve the news to MCP-capable assistants (newsdesk/mcp_server.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from newsdesk.output import console, require_existing


def mcp(
    data_dir: Annotated[
        Path | None, typer.Option(help="Local data dir (default NEWSDESK_DATA_DIR, else ./data).")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Use this newsdesk server instead of a data dir; its key from NEWSDESK_API_KEY."),
    ] = None,
    transport: Annotated[
        Literal["stdio", "streamable-http"],
        typer.Option(
            help="stdio (an assistant starts this command) or streamable-http (serve on --host/--port)."
        ),
    ] = "stdio",
    host: Annotated[str, typer.Option(help="streamable-http: the address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="streamable-http: the port.")] = 8765,
) -> None:
    """Serve the Model Context Protocol: tools ask_news, search_news, summarize_news, list_articles and each
    article as a resource, over stdio (default) or streamable HTTP at http://HOST:PORT/mcp."""
    from api.security import is_loopback
    from rag.settings import Settings

    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    if transport == "streamable-http" and not is_loopback(host) and not settings.allow_open:
        console.print(
            f"[red]error:[/red] refusing to serve MCP on {host}: it has no authentication. Bind 127.0.0.1, or set "
            "NEWSDESK_ALLOW_OPEN=true to accept that anyone who can reach it may ask."
        )
        raise typer.Exit(2)
    from newsdesk.mcp_server import build_server
    from newsdesk.news_backends import LocalNews, NewsBackend, RemoteNews

    backend: NewsBackend
    if url is not None:
        backend = RemoteNews(url, None)
    else:
        if not settings.database_url:  # an empty or mistyped data dir is an error, not an empty corpus
            require_existing(settings.registry_path)
        backend = LocalNews(settings)
    console.print(f"newsdesk MCP over {transport}, news from the {backend.name}")
    server = build_server(backend)
    try:
        if transport == "stdio":
            server.run("stdio")
        else:
            server.run("streamable-http", host=host, port=port)
    finally:
        backend.close()
