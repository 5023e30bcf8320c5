"""ingest/fetch.py against a real local HTTP server: charset, redirects, timeouts, 404, size limit, 304."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from localhttp import Reply, Site, html_page, serve

from ingest.fetch import USER_AGENT, decode, fetch

BODY = (
    "This is a fictional article written for the newsdesk tests. The harbour council of Exampleton voted on "
    "Tuesday to extend the ferry timetable into the winter months.\n\nCouncillor Maren Olsk said the change "
    "would cost the town about 40,000 crowns a year and would be reviewed in the spring."
)


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        yield running


def test_fetches_html_with_user_agent(site: Site) -> None:
    site.routes["/a"] = Reply(
        body=html_page("Ferry timetable", BODY).encode(), headers={"Content-Type": "text/html"}
    )
    result = fetch(site.url("/a"))
    assert result.ok and result.status == 200
    assert "Exampleton" in result.text
    assert site.hits("/a")[0]["user-agent"] == USER_AGENT


@pytest.mark.parametrize("in_header", [True, False])
def test_iso_8859_1_page_decodes(site: Site, in_header: bool) -> None:
    page = html_page("Café Señora", "Die Bürger von Exampleton trafen sich im Café.", charset="iso-8859-1")
    content_type = "text/html; charset=ISO-8859-1" if in_header else "text/html"
    site.routes["/latin"] = Reply(body=page.encode("iso-8859-1"), headers={"Content-Type": content_type})
    result = fetch(site.url("/latin"))
    assert result.ok
    assert "Bürger" in result.text and "Café Señora" in result.text


def test_decode_falls_back_for_undeclared_non_utf8() -> None:
    assert decode("Señora".encode("latin-1")) == "Señora"
    assert decode("Señora".encode()) == "Señora"


def test_follows_redirects(site: Site) -> None:
    site.routes["/old"] = Reply(301, headers={"Location": "/new"})
    site.routes["/new"] = Reply(body=html_page("Moved", BODY).encode(), headers={"Content-Type": "text/html"})
    result = fetch(site.url("/old"))
    assert result.ok and result.url.endswith("/new")


def test_redirect_loop_is_an_error(site: Site) -> None:
    site.routes["/loop"] = Reply(302, headers={"Location": "/loop"})
    result = fetch(site.url("/loop"))
    assert result.error is not None and "redirects" in result.error


def test_slow_server_times_out(site: Site) -> None:
    site.routes["/slow"] = Reply(body=b"<html></html>", headers={"Content-Type": "text/html"}, delay_s=1.0)
    result = fetch(site.url("/slow"), timeout_s=0.2)
    assert result.error is not None and "timed out" in result.error


def test_404_is_a_value(site: Site) -> None:
    result = fetch(site.url("/missing"))
    assert not result.ok and result.status == 404 and result.error is not None and "404" in result.error


def test_huge_page_is_cut_off(site: Site) -> None:
    big = b"<html><body>" + b"x" * 200_000 + b"</body></html>"
    site.routes["/big"] = Reply(body=big, headers={"Content-Type": "text/html"})
    result = fetch(site.url("/big"), max_bytes=50_000)
    assert result.error == "page larger than 50000 bytes"

    # no Content-Length: the limit applies while the body streams in
    site.routes["/stream"] = Reply(body=big, headers={"Content-Type": "text/html"}, send_length=False)
    assert fetch(site.url("/stream"), max_bytes=50_000).error == "page larger than 50000 bytes"


def test_not_html_and_bad_scheme(site: Site) -> None:
    site.routes["/img"] = Reply(body=b"\x89PNG", headers={"Content-Type": "image/png"})
    result = fetch(site.url("/img"))
    assert result.error == "not HTML (content type image/png)"
    assert fetch("file:///etc/passwd").error == "only http:// and https:// URLs can be fetched"
    assert fetch("ftp://example.com/x").error is not None


def test_connection_refused_is_a_value() -> None:
    result = fetch("http://127.0.0.1:9/nothing", timeout_s=1)
    assert result.error is not None and result.error.startswith("fetch failed")


def test_conditional_get(site: Site) -> None:
    def page(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(
            body=html_page("Ferry", BODY).encode(),
            headers={
                "Content-Type": "text/html",
                "ETag": '"v1"',
                "Last-Modified": "Tue, 03 Mar 2026 10:00:00 GMT",
            },
        )

    site.routes["/c"] = page
    first = fetch(site.url("/c"))
    assert first.ok and first.etag == '"v1"' and first.last_modified
    second = fetch(site.url("/c"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and not second.ok and second.error is None
    sent = site.hits("/c")[1]
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Tue, 03 Mar 2026 10:00:00 GMT"
