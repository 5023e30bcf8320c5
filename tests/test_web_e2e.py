"""The web page end to end: Debian's chromium driven by Playwright against a real uvicorn server on 127.0.0.1
holding the 16 fictional sample articles. Screenshots go to test-output/web/ (git-ignored)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from evals.server import ServerFailed, free_port
from evals.server import running_server as serve
from rag.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "test-output" / "web"
QUESTION = "How high did the Tamsin River crest?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make install-browser)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[dev]')")
expect = sync_api.expect


@contextmanager
def running_server(folder: Path, articles: list[dict[str, Any]], **settings: str) -> Iterator[str]:
    """`newsdesk serve` on a free loopback port with the hashing embedder, holding ``articles``."""
    env = {"NEWSDESK_EMBEDDER": "hashing", **{f"NEWSDESK_{k.upper()}": v for k, v in settings.items()}}
    try:
        with serve(folder / "data", folder / "server.log", env) as base:
            auth = {"Authorization": f"Bearer {settings['api_keys']}"} if "api_keys" in settings else {}
            ingested = httpx.post(
                f"{base}/v1/ingest", json={"articles": articles}, headers=auth, timeout=120.0
            )
            assert ingested.status_code == 200 and ingested.json()["added"] == len(articles), ingested.text
            yield base
    except ServerFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sample_articles_data: list[dict[str, Any]]
) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("web"), sample_articles_data) as base:
        yield base


@pytest.fixture(scope="module")
def paths(server: str) -> set[str]:
    return set(httpx.get(f"{server}/openapi.json").json()["paths"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=server)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.goto("/")
    expect(opened.locator("body")).to_have_attribute("data-ready", "true")
    yield opened
    context.close()
    assert errors == [], errors  # no script errors and no CSP violations (both are logged to the console)


def answer_in(response: Response) -> dict[str, Any]:
    """The Answer in a /v1/ask reply or in the `final` event of a /v1/chat stream."""
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        body: dict[str, Any] = response.json()
        return body.get("answer", body) if "conversation_id" in body else body
    for block in response.text().replace("\r\n", "\n").split("\n\n"):
        lines = block.split("\n")
        if "event: final" in lines:
            final: dict[str, Any] = json.loads(
                "".join(x[len("data:") :].strip() for x in lines if x.startswith("data:"))
            )
            return final["answer"] if "conversation_id" in final else final
    raise AssertionError("the stream had no final event")


def ask(page: Page, question: str, *, turn: int) -> dict[str, Any]:
    """Type a question into the ask box, press Enter, wait for the answer; return the API's Answer."""

    def is_answer(r: Response) -> bool:
        return bool(r.request.method == "POST" and r.url.endswith(("/v1/chat", "/v1/ask")))

    with page.expect_response(is_answer) as reply:
        page.fill("#question", question)
        page.press("#question", "Enter")
    answer = answer_in(reply.value)
    expect(page.locator(".turn").nth(turn - 1)).to_have_attribute("data-status", answer["status"])
    return answer


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_ask_streams_a_cited_answer_and_a_citation_opens_its_highlighted_passage(
    page: Page, paths: set[str]
) -> None:
    # Keyboard only: Tab from the top of the page to the ask box, type, submit with Enter.
    for _ in range(40):
        if page.evaluate("document.activeElement && document.activeElement.id") == "question":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "question"
    with page.expect_response(lambda r: r.request.method == "POST" and "/v1/" in r.url) as reply:
        page.keyboard.type(QUESTION)
        page.keyboard.press("Enter")
    answer = answer_in(reply.value)
    turn = page.locator(".turn").first
    expect(turn).to_have_attribute("data-status", "answered")
    if "/v1/chat" in paths:
        expect(turn).to_have_attribute("data-transport", "stream")
        assert int(turn.get_attribute("data-events") or 0) >= 3  # meta, ≥1 citation + sentence, final
    expect(turn.locator(".answer-text")).to_contain_text("6.4 meters")
    assert turn.locator(".sentence").count() == len(answer["sentences"])
    page.screenshot(path=str(SCREENSHOTS / "01-answer.png"), full_page=True)

    citation = answer["citations"][0]
    cite = turn.locator(f".answer-text .cite[data-n='{citation['n']}']").first
    cite.click()
    dialog = page.locator("dialog#passage")
    expect(dialog).to_be_visible()
    mark = dialog.locator("mark.cited")
    expect(mark).to_have_text(citation["quote"], use_inner_text=False)
    assert mark.text_content() == citation["quote"]
    expect(dialog.locator("#passage-title")).to_have_text(citation["title"])
    expect(dialog.locator("#passage-meta")).to_contain_text(citation["source"])
    assert dialog.locator("#passage-link").get_attribute("href") == citation["url"]
    page.screenshot(path=str(SCREENSHOTS / "02-passage.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('cite')")  # focus went back to the marker


def test_follow_up_keeps_the_conversation_and_new_conversation_starts_over(
    page: Page, paths: set[str]
) -> None:
    ask(page, QUESTION, turn=1)
    follow_up = ask(page, "How much will the flood wall cost?", turn=2)
    assert follow_up["status"] == "answered"
    expect(page.locator(".turn")).to_have_count(2)
    if "/v1/chat" in paths:
        expect(page.locator(".turn").nth(0)).to_have_attribute("data-turn", "1")
        expect(page.locator(".turn").nth(1)).to_have_attribute("data-turn", "2")
    page.screenshot(path=str(SCREENSHOTS / "03-follow-up.png"), full_page=True)
    page.click("#new-conversation")
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#question")).to_be_focused()
    ask(page, "Who scored the winning goal in the Coastal Cup final?", turn=1)
    if "/v1/chat" in paths:
        expect(page.locator(".turn").first).to_have_attribute("data-turn", "1")


def test_a_factoid_answer_shows_its_short_answer_first(page: Page) -> None:
    answer = ask(page, "How high did the Tamsin River crest?", turn=1)
    assert answer["short_answer"] and answer["short_answer"]["text"] == "6.4 meters"
    short = page.locator(".turn .short-answer")
    expect(short.locator("strong")).to_have_text("6.4 meters")
    expect(short.locator("button.cite")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "10-short-answer.png"), full_page=True)


def test_insufficient_evidence_and_unverified_sentences_are_marked(page: Page) -> None:
    none = ask(page, "What is the population of the third moon of Neptune?", turn=1)
    assert none["status"] == "insufficient_evidence"
    expect(page.locator(".turn .notice.insufficient")).to_contain_text("Not enough evidence")
    # The extractive writer only quotes, so nothing it says is unverified: render a flagged sentence directly.
    page.evaluate(
        """async () => {
            const { renderAnswer } = await import('/static/render.js');
            const box = document.createElement('div');
            box.id = 'flag-demo';
            document.getElementById('transcript').after(box);
            renderAnswer(box, {status: 'answered', citations: [{n: 1, title: 'T', source: 'S', quote: 'q',
                article_id: 'a', chunk_id: 'c', start: 0, end: 1, published_at: null, url: ''}],
              sentences: [{text: 'A checked claim.', citations: [1], support: 0.9, supported: true},
                          {text: 'A shaky claim.', citations: [1], support: 0.41, supported: false}]}, () => {});
        }"""
    )
    flagged = page.locator("#flag-demo .sentence[data-supported='false']")
    expect(flagged.locator(".claim.unsupported")).to_have_text("A shaky claim.")
    expect(flagged.locator(".flag")).to_have_text("unverified")
    expect(page.locator("#flag-demo .sentence[data-supported='true'] .flag")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "04-insufficient-and-unverified.png"), full_page=True)


def test_outlet_filter_limits_the_answer_to_that_outlet(page: Page) -> None:
    page.click("#filters > summary")
    outlets = page.locator("#outlet-list input[type=checkbox]")
    expect(outlets).to_have_count(5)
    page.get_by_label("Valley Wire (4)").check()
    expect(page.locator("#filter-summary")).to_contain_text("1 outlet")
    answer = ask(page, "How much had the ferry strike cost businesses?", turn=1)
    assert answer["citations"] and {c["source"] for c in answer["citations"]} == {"Valley Wire"}
    sources = page.locator(".turn .sources li")
    expect(sources).to_have_count(len(answer["citations"]))
    for item in sources.all():
        expect(item).to_contain_text("Valley Wire")


def test_articles_view_pages_searches_and_shows_an_article_with_its_chunks(page: Page, server: str) -> None:
    ferry_total = httpx.get(f"{server}/v1/articles", params={"text": "ferry"}).json()["total"]
    assert ferry_total >= 3
    page.click(".tab[data-view=articles]")
    expect(page.locator("#article-count")).to_have_text("Articles 1–10 of 16")
    expect(page.locator("#article-list li")).to_have_count(10)
    page.click("#article-next")
    expect(page.locator("#article-count")).to_have_text("Articles 11–16 of 16")
    page.fill("#article-text", "ferry")
    page.press("#article-text", "Enter")
    expect(page.locator("#article-count")).to_have_text(f"Articles 1–{ferry_total} of {ferry_total}")
    page.locator("#article-list .link-button", has_text="Ferry workers ratify deal").click()
    detail = page.locator("#article-detail")
    expect(detail.locator("h3")).to_have_text("Ferry workers ratify deal, full service to resume Monday")
    expect(detail.locator(".chunk-mark").first).to_have_text("chunk 1")
    assert detail.locator(".chunks tbody tr").count() == detail.locator(".chunk-mark").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "05-article.png"), full_page=True)


def test_articles_view_lists_feeds_with_their_schedule_and_last_error(page: Page, server: str) -> None:
    # A feed nobody serves: the server's scheduler fetches it at once, fails, and schedules a retry (no article).
    url = f"http://127.0.0.1:{free_port()}/feed.xml"
    assert httpx.post(f"{server}/v1/feeds", json={"url": url}).status_code == 201
    deadline = time.monotonic() + 60
    while not any(f["url"] == url and f["failures"] for f in httpx.get(f"{server}/v1/feeds").json()["items"]):
        assert time.monotonic() < deadline, "the scheduler never tried the new feed"
        time.sleep(0.1)
    page.click(".tab[data-view=articles]")
    feed = page.locator(f'.feed-list li:has-text("{url}")')
    expect(feed.locator(".feed-error")).to_contain_text("Last error")
    expect(feed.locator(".feed-next")).not_to_have_text("now")
    expect(feed.locator(".feed-last")).to_contain_text("(error)")
    expect(feed.locator(".feed-counts")).to_contain_text("0 items seen · 0 articles added · 0 updated")
    expect(page.locator("#article-count")).to_have_text("Articles 1–10 of 16")  # the feed added nothing
    feed.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "06b-feeds.png"), full_page=True)


def test_summary_panel_produces_a_cited_digest(page: Page, paths: set[str]) -> None:
    if "/v1/summaries" not in paths:
        pytest.skip("this build has no POST /v1/summaries yet")
    page.click(".tab[data-view=summaries]")
    page.select_option("#summary-kind", "timeline")
    page.fill("#summary-topic", "Port Halden ferry strike")
    page.click("#summary-button")
    output = page.locator("#summary-output")
    expect(output).to_have_attribute("data-status", "answered")
    expect(output.locator(".cite").first).to_be_visible()
    output.locator(".cite").first.click()
    expect(page.locator("dialog#passage mark.cited")).not_to_be_empty()
    page.screenshot(path=str(SCREENSHOTS / "06-summary.png"), full_page=True)


def test_phone_width_has_no_horizontal_scroll(browser: Browser, server: str) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, base_url=server, is_mobile=True, color_scheme="dark"
    )
    phone = context.new_page()
    phone.goto("/")
    expect(phone.locator("body")).to_have_attribute("data-ready", "true")
    # prefers-color-scheme: dark switches the palette.
    assert phone.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 24, 39)"
    ask(phone, QUESTION, turn=1)
    assert no_horizontal_scroll(phone)
    phone.locator(".turn .cite").first.click()
    expect(phone.locator("dialog#passage mark.cited")).not_to_be_empty()
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=str(SCREENSHOTS / "07-phone-passage.png"))
    phone.keyboard.press("Escape")
    phone.click("#filters > summary")
    phone.click(".tab[data-view=articles]")
    phone.locator("#article-list .link-button").first.click()
    expect(phone.locator("#article-detail h3")).to_be_visible()
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=str(SCREENSHOTS / "08-phone-article.png"), full_page=True)
    context.close()


def test_a_server_with_api_keys_asks_for_one_and_the_page_sends_it(
    browser: Browser, tmp_path: Path, sample_articles_data: list[dict[str, Any]]
) -> None:
    key = "web-e2e-key-0123456789abcdef"
    # Reads need the key too, so every API call the page makes is refused until it is entered.
    with running_server(tmp_path, sample_articles_data[:4], api_keys=key, auth_reads="true") as base:
        context = browser.new_context(base_url=base)
        page = context.new_page()
        page.goto("/")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.locator("#key-panel")).to_have_attribute("open", "")
        expect(page.locator("#key-status")).to_contain_text("needs an API key")
        page.fill("#api-key", key)
        page.press("#api-key", "Enter")
        expect(page.locator("#outlet-list input[type=checkbox]")).not_to_have_count(0)
        ask(page, "How many ferry workers backed the strike mandate?", turn=1)
        expect(page.locator(".turn").first).not_to_have_attribute("data-status", "error")
        assert page.evaluate("sessionStorage.getItem('newsdesk.apiKey')") == key
        context.close()


def test_the_eval_report_opens_with_a_pass_fail_table(browser: Browser, tmp_path: Path) -> None:
    """`newsdesk eval all`'s report.html (built from hand-made figures) as a reader sees its header."""
    from evals.all import build_report

    def suites(strict: float, abstention: float) -> dict[str, Any]:
        return {
            "code_version": "abc1234",
            "writer": "extractive",
            "retrieval": {"per_type": {}, "hits@1": 0.58, "hits@4": 0.85, "hits@10": 0.96, "mrr@10": 0.71,
                          "article_recall@10": 0.84},
            "answers": {"per_type": {}, "strict_accuracy": strict, "null_abstention_rate": 0.86,
                        "false_abstention_rate": 0.04, "citation_precision": 0.81},
            "natural": {"small": {"short_contains_gold": 0.41, "yesno_accuracy": 0.0, "abstention_rate": abstention,
                                  "false_abstention_rate": 0.02, "citation_precision": 0.98}},
        }  # fmt: skip

    latencies = [4500.0] + [16.0 + (i * 7) % 30 for i in range(300)]
    rows = [{"suite": "retrieval", "latency_ms": ms} for ms in latencies]
    report = tmp_path / "report.html"
    report.write_text(build_report(suites(0.19, 1.0), rows, suites(0.23, 0.95)), encoding="utf-8")
    context = browser.new_context(viewport={"width": 900, "height": 1000})
    page = context.new_page()
    page.goto(report.as_uri())
    headline = page.locator("table.headline")
    expect(headline).to_be_visible()
    expect(headline.locator("td.fail")).to_have_count(
        1
    )  # strict accuracy fell 0.04, beyond the 0.02 tolerance
    expect(headline.locator("tr", has_text="strict_accuracy")).to_contain_text("−0.040")
    expect(page.get_by_text("first query (cold start, index load) 4500 ms", exact=False)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "09-eval-report-header.png"))
    context.close()
