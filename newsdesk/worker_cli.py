"""`newsdesk worker`: the feed scheduler on its own, for deployments whose API processes run `serve --no-scheduler`
(any number of workers and servers may share a data dir, or with NEWSDESK_DATABASE_URL a PostgreSQL database across
hosts: the feed leases keep each refresh to one of them)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from rag.settings import Settings


def worker() -> None:
    """Run the feed scheduler alone, without the HTTP API (pair it with `serve --no-scheduler`).

    Refreshes feeds on their schedule until stopped; Ctrl-C or SIGTERM ends it at the next item (what was ingested
    stays, the rest of the feed comes on its next refresh)."""
    from ingest.feed_scheduler import FeedScheduler
    from ingest.pipeline import Ingestor
    from rag.pipeline import build_services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    services = build_services(settings)
    ingestor = Ingestor(services)
    orphans = ingestor.reconcile()
    if orphans:
        logging.getLogger("newsdesk.feeds").warning("removed %d orphan vectors left by an interrupted ingest", orphans)
    scheduler = FeedScheduler(ingestor)

    def stop(signum: int, frame: FrameType | None) -> None:
        scheduler.request_stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        scheduler.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        services.close()
