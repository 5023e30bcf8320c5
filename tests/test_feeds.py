"""ingest/feeds.py against a real local HTTP server serving fictional RSS/Atom feeds and pages."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from localhttp import Reply, Site, html_page, serve

from ingest.feed_reports import FeedError, RefreshReport
from ingest.feeds import FeedManager
from ingest.pipeline import Ingestor
from rag.pipeline import Services, build_services
from rag.settings import Settings

NOTICE = "This is a fictional article written for the newsdesk tests."
STORIES = {
    "ferry": (
        "Exampleton extends winter ferry timetable",
        f"{NOTICE} The harbour council of Exampleton voted on Tuesday to extend the ferry timetable into the "
        "winter months.\n\nCouncillor Maren Olsk said the change would cost the town about 40,000 crowns a year "
        "and would be reviewed in the spring by the harbour board.",
    ),
    "bridge": (
        "Old stone bridge reopens after repairs",
        f"{NOTICE} The old stone bridge over the Tamsin river in Exampleton reopened on Friday after eight "
        "months of repairs.\n\nEngineers replaced two arches and the town expects traffic to return to normal "
        "within a week, according to the roads office.",
    ),
    "library": (
        "Library opens evening reading room",
        f"{NOTICE} The Exampleton public library opened an evening reading room on Monday, staying open until "
        "ten at night on weekdays.\n\nLibrarian Ida Brenn said more than three hundred readers came in the "
        "first week, most of them students preparing for exams.",
    ),
}


def rss(title: str, items: list[tuple[str, str, str]]) -> bytes:
    """items: (guid, link, summary)."""
    entries = "".join(
        f"<item><title>{STORIES.get(guid, (guid,))[0]}</title><link>{link}</link><guid>{guid}</guid>"
        f"<description>{summary}</description><pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate>"
        f"<author>desk@example.com (Example Desk)</author></item>"
        for guid, link, summary in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://news.example.com/</link><description>Fictional</description>{entries}</channel></rss>"
    ).encode()


def atom(title: str, items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(
        f"<entry><title>{STORIES.get(guid, (guid,))[0]}</title><link href='{link}'/><id>urn:example:{guid}</id>"
        f"<updated>2026-03-04T08:00:00Z</updated><summary>{summary}</summary>"
        f"<author><name>Ada Example</name></author></entry>"
        for guid, link, summary in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>'
        f"<id>urn:example:feed</id><updated>2026-03-04T08:00:00Z</updated>{entries}</feed>"
    ).encode()


XML = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        for key, (title, body) in STORIES.items():
            running.routes[f"/news/{key}"] = Reply(body=html_page(title, body).encode(), headers=HTML)
        yield running


def make(tmp_path: Path, **overrides: object) -> tuple[Services, FeedManager]:
    settings = Settings(data_dir=tmp_path, embedder="hashing", **overrides)  # type: ignore[arg-type]
    services = build_services(settings)
    return services, FeedManager(Ingestor(services))


@pytest.fixture
def setup(tmp_path: Path, database_url: str | None) -> Iterator[tuple[Services, FeedManager]]:
    """Services and a feed manager on each back end in turn (SQLite files, then PostgreSQL)."""
    services, manager = make(tmp_path, database_url=database_url)
    yield services, manager
    manager.close()
    services.close()


def statuses(report: RefreshReport) -> dict[str, str]:
    return {item.link.rsplit("/", 1)[-1]: item.status for feed in report.feeds for item in feed.items}


def test_add_and_list(setup: tuple[Services, FeedManager]) -> None:
    _, manager = setup
    feed, created = manager.add("https://news.example.com/rss")
    assert created and feed.id == 1
    again, created = manager.add("https://news.example.com/rss")
    assert not created and again.id == feed.id
    assert [f.url for f in manager.list()] == ["https://news.example.com/rss"]
    with pytest.raises(FeedError):
        manager.add("file:///etc/passwd")


def test_rss_and_atom_feeds_ingest_pages_with_feed_metadata(
    site: Site, setup: tuple[Services, FeedManager]
) -> None:
    services, manager = setup
    site.routes["/rss"] = Reply(
        body=rss("Example Valley Wire", [("ferry", site.url("/news/ferry"), "s")]), headers=XML
    )
    site.routes["/atom"] = Reply(
        body=atom("Example Atom Times", [("bridge", site.url("/news/bridge"), "s")]),
        headers={"Content-Type": "application/atom+xml"},
    )
    manager.add(site.url("/rss"))
    manager.add(site.url("/atom"))
    report = manager.refresh()
    assert statuses(report) == {"ferry": "added", "bridge": "added"}
    assert [f.title for f in report.feeds] == ["Example Valley Wire", "Example Atom Times"]
    ferry = services.registry.article(report.feeds[0].items[0].article_id or "")
    assert ferry is not None
    assert ferry.title == STORIES["ferry"][0]
    assert "Maren Olsk" in ferry.body and "Home | World" not in ferry.body
    assert ferry.source == "Example Valley Wire"
    assert ferry.url == site.url("/news/ferry")
    assert ferry.published_at == datetime(2026, 3, 3, 10, tzinfo=UTC)
    bridge = services.registry.article(report.feeds[1].items[0].article_id or "")
    assert bridge is not None and bridge.author == "Ada Example"
    # a second refresh: nothing new
    again = manager.refresh()
    assert statuses(again) == {"ferry": "unchanged", "bridge": "unchanged"}
    assert report.counts()["added"] == 2 and "added 2" in report.summary()


def test_malformed_feed_is_a_per_feed_error(site: Site, setup: tuple[Services, FeedManager]) -> None:
    _, manager = setup
    site.routes["/bad"] = Reply(body=b"<rss><channel><title>Broken", headers=XML)
    site.routes["/rss"] = Reply(body=rss("Good", [("ferry", site.url("/news/ferry"), "s")]), headers=XML)
    manager.add(site.url("/bad"))
    manager.add(site.url("/missing"))
    manager.add(site.url("/rss"))
    report = manager.refresh()
    bad, missing, good = report.feeds
    assert bad.status == "error" and bad.error is not None and bad.error.startswith("malformed feed")
    assert missing.status == "error" and missing.error is not None and "404" in missing.error
    assert good.status == "ok" and good.items[0].status == "added"
    assert manager.list()[0].last_error == bad.error
    assert report.counts()["feed_errors"] == 2


def test_page_without_article_text_falls_back_to_entry(
    site: Site, setup: tuple[Services, FeedManager]
) -> None:
    services, manager = setup
    site.routes["/news/empty"] = Reply(body=b"<html><body><nav>Home</nav></body></html>", headers=HTML)
    summary = "&lt;p&gt;" + STORIES["library"][1].replace("\n\n", " ") + "&lt;/p&gt;"
    site.routes["/rss"] = Reply(
        body=rss(
            "Wire", [("library", site.url("/news/empty"), summary), ("nothing", site.url("/news/nope"), "")]
        ),
        headers=XML,
    )
    manager.add(site.url("/rss"))
    report = manager.refresh()
    items = {i.guid: i for i in report.feeds[0].items}
    assert items["library"].status == "added" and "used the feed entry" in (items["library"].reason or "")
    article = services.registry.article(items["library"].article_id or "")
    assert article is not None and "Ida Brenn" in article.body and "<p>" not in article.body
    assert items["nothing"].status == "rejected" and "404" in (items["nothing"].reason or "")


def test_non_utf8_page_and_redirect(site: Site, setup: tuple[Services, FeedManager]) -> None:
    services, manager = setup
    body = (
        f"{NOTICE} Die Bürger von Exampleton trafen sich am Dienstag im Café am Hafen, um über die Fähre zu sprechen. "
        * 3
    )
    site.routes["/news/latin"] = Reply(
        body=html_page("Bürger im Café", body, charset="iso-8859-1").encode("iso-8859-1"),
        headers={"Content-Type": "text/html; charset=ISO-8859-1"},
    )
    site.routes["/news/moved"] = Reply(301, headers={"Location": "/news/latin"})
    site.routes["/rss"] = Reply(body=rss("Wire", [("latin", site.url("/news/moved"), "")]), headers=XML)
    manager.add(site.url("/rss"))
    item = manager.refresh().feeds[0].items[0]
    assert item.status == "added", item.reason
    article = services.registry.article(item.article_id or "")
    assert article is not None and "Bürger" in article.body and "Café" in article.body


def test_same_item_in_two_feeds_is_ingested_once(site: Site, setup: tuple[Services, FeedManager]) -> None:
    services, manager = setup
    link = site.url("/news/ferry")
    site.routes["/a"] = Reply(body=rss("Wire A", [("ferry", link, "s")]), headers=XML)
    site.routes["/b"] = Reply(body=rss("Wire B", [("ferry", link, "s")]), headers=XML)
    manager.add(site.url("/a"))
    manager.add(site.url("/b"))
    report = manager.refresh()
    first, second = (f.items[0] for f in report.feeds)
    assert first.status == "added" and second.status == "duplicate"
    assert first.article_id == second.article_id
    assert services.registry.counts()[0] == 1
    assert len(site.hits("/news/ferry")) == 1


def test_updated_item_is_reingested(site: Site, setup: tuple[Services, FeedManager]) -> None:
    services, manager = setup
    link = site.url("/news/ferry")
    site.routes["/rss"] = Reply(body=rss("Wire", [("ferry", link, "first")]), headers=XML)
    manager.add(site.url("/rss"))
    first = manager.refresh().feeds[0].items[0]
    title, body = STORIES["ferry"]
    site.routes["/news/ferry"] = Reply(
        body=html_page(title, body + "\n\nThe vote was later confirmed.").encode(), headers=HTML
    )
    site.routes["/rss"] = Reply(body=rss("Wire", [("ferry", link, "second")]), headers=XML)
    second = manager.refresh().feeds[0].items[0]
    assert second.status == "updated" and second.article_id == first.article_id
    article = services.registry.article(first.article_id or "")
    assert article is not None and "later confirmed" in article.body


def test_removed_item_expires_only_with_retention(site: Site, tmp_path: Path) -> None:
    for retention, expected in ((0, 2), (7, 1)):
        services, manager = make(tmp_path / f"r{retention}", feed_retention_days=retention)
        both = [("ferry", site.url("/news/ferry"), "s"), ("bridge", site.url("/news/bridge"), "s")]
        site.routes["/rss"] = Reply(body=rss("Wire", both), headers=XML)
        manager.add(site.url("/rss"))
        manager.refresh(now=datetime.now(UTC) - timedelta(days=30))
        site.routes["/rss"] = Reply(body=rss("Wire", both[:1]), headers=XML)
        report = manager.refresh()
        assert services.registry.counts()[0] == expected
        assert ("bridge" in statuses(report)) == (retention > 0)
        if retention:
            assert statuses(report)["bridge"] == "expired"
            # recent removals are kept even with retention
        manager.close()
        services.close()


def test_conditional_get_sends_etag_and_skips_on_304(site: Site, setup: tuple[Services, FeedManager]) -> None:
    _, manager = setup
    feed = rss("Wire", [("ferry", site.url("/news/ferry"), "s")])

    def route(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"feed-v1"':
            return Reply(304, headers={"ETag": '"feed-v1"'})
        return Reply(
            body=feed, headers={**XML, "ETag": '"feed-v1"', "Last-Modified": "Tue, 03 Mar 2026 10:00:00 GMT"}
        )

    site.routes["/rss"] = route
    manager.add(site.url("/rss"))
    assert manager.refresh().feeds[0].items[0].status == "added"
    second = manager.refresh().feeds[0]
    assert second.status == "not_modified" and second.items == []
    sent = site.hits("/rss")[1]
    assert sent["if-none-match"] == '"feed-v1"'
    assert sent["if-modified-since"] == "Tue, 03 Mar 2026 10:00:00 GMT"
    assert len(site.hits("/news/ferry")) == 1


def test_slow_and_huge_pages_are_reported_per_item(site: Site, tmp_path: Path) -> None:
    services, manager = make(tmp_path, fetch_timeout_s=0.3, fetch_max_bytes=20_000)
    site.routes["/news/slow"] = Reply(body=b"<html></html>", headers=HTML, delay_s=1.5)
    site.routes["/news/huge"] = Reply(body=b"<html><body>" + b"y" * 50_000 + b"</body></html>", headers=HTML)
    site.routes["/rss"] = Reply(
        body=rss(
            "Wire",
            [
                ("slow", site.url("/news/slow"), ""),
                ("huge", site.url("/news/huge"), ""),
                ("ferry", site.url("/news/ferry"), ""),
            ],
        ),
        headers=XML,
    )
    manager.add(site.url("/rss"))
    items = {i.guid: i for i in manager.refresh().feeds[0].items}
    assert items["slow"].status == "rejected" and "timed out" in (items["slow"].reason or "")
    assert items["huge"].status == "rejected" and items["huge"].reason == "page larger than 20000 bytes"
    assert items["ferry"].status == "added"
    # rejected items are retried on the next refresh
    with sqlite3.connect(tmp_path / "feeds.sqlite3") as db:
        assert [r[0] for r in db.execute("SELECT guid FROM items")] == ["ferry"]
    manager.close()
    services.close()


def test_cli_feeds_and_url_ingest(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from newsdesk.cli import app

    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "hashing")
    runner = CliRunner()
    site.routes["/rss"] = Reply(body=rss("Wire", [("ferry", site.url("/news/ferry"), "s")]), headers=XML)
    added = runner.invoke(app, ["feeds", "add", site.url("/rss")])
    assert added.exit_code == 0, added.output
    assert "added: feed 1" in added.stdout
    assert runner.invoke(app, ["feeds", "add", "ftp://example.com/x"]).exit_code == 2
    refreshed = runner.invoke(app, ["feeds", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "added 1" in refreshed.stdout
    listed = runner.invoke(app, ["feeds", "list"])
    assert listed.exit_code == 0 and "Wire" in listed.stdout and "1 feeds" in listed.stdout

    good = runner.invoke(app, ["ingest", site.url("/news/bridge")])
    assert good.exit_code == 0, good.output
    assert "added 1" in good.stdout
    bad = runner.invoke(app, ["ingest", site.url("/news/bridge"), site.url("/news/gone")])
    assert bad.exit_code == 1
    assert "unchanged 1, rejected 1" in bad.stdout and "404" in bad.output


def test_api_feeds(site: Site, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    site.routes["/rss"] = Reply(body=rss("Wire", [("ferry", site.url("/news/ferry"), "s")]), headers=XML)
    # no scheduler here: this test drives the refreshes itself (tests/test_feed_scheduler.py covers the scheduler)
    app = create_app(Settings(data_dir=tmp_path / "api", embedder="hashing", feed_scheduler=False))
    with TestClient(app) as client:
        created = client.post("/v1/feeds", json={"url": site.url("/rss")})
        assert created.status_code == 201 and created.json()["id"] == 1
        bad = client.post("/v1/feeds", json={"url": "file:///etc/passwd"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
        assert [f["url"] for f in client.get("/v1/feeds").json()["items"]] == [site.url("/rss")]
        report = client.post("/v1/feeds/refresh")
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["counts"]["added"] == 1 and body["feeds"][0]["items"][0]["status"] == "added"
        assert client.post("/v1/feeds/refresh", json={"feeds": [1]}).json()["counts"]["unchanged"] == 1
