"""`newsdesk feeds ...`: subscribe to RSS/Atom feeds, list them, refresh them."""

from __future__ import annotations

from typing import Annotated

import typer

from newsdesk.output import console, progress_bar
from rag.settings import Settings

feeds_app = typer.Typer(help="RSS/Atom feeds: subscribe, list, refresh (new or changed items only).")




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
    from ingest.feed_reports import FeedError
    from ingest.feed_schedule import parse_interval
    from ingest.feeds import FeedManager
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
    with progress_bar() as progress:
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
