"""The web page at `/`, its static files and GET /v1/sources, through the app (no browser: see test_web_e2e.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.pages import STATIC_DIR
from rag.pipeline import Services
from rag.settings import Settings

KEY = "k-0123456789abcdef-web"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", embedder="hashing"))) as test_client:
        yield test_client


def test_index_is_html_with_a_strict_content_security_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = {
        name: value.strip()
        for name, _, value in (
            d.strip().partition(" ") for d in page.headers["content-security-policy"].split(";")
        )
    }
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/static/app.js">' in page.text
    assert 'href="/docs"' in page.text


def test_static_files_are_served_and_every_imported_module_exists(client: TestClient) -> None:
    script = client.get("/static/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    style = client.get("/static/style.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    for module in STATIC_DIR.glob("*.js"):
        for imported in re.findall(r'from "\./([\w.-]+\.js)"', module.read_text(encoding="utf-8")):
            assert client.get(f"/static/{imported}").status_code == 200, (module.name, imported)
    assert client.get("/static/missing.js").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404


def test_page_loads_nothing_from_elsewhere_and_never_writes_html() -> None:
    # Article text is untrusted: the scripts build DOM with textContent only, and nothing loads from the internet.
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(?:src|href)=\"(?:https?:)?//", text), path.name
        assert "@import" not in text and "url(http" not in text, path.name
        if path.suffix == ".js":
            assert not re.search(
                r"\.(?:inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(", text
            ), path.name


def test_page_and_static_files_need_no_key_when_keys_are_set(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", api_keys=[KEY])
    with TestClient(create_app(settings)) as client:
        assert client.get("/").status_code == 200
        assert client.get("/static/app.js").status_code == 200
        assert client.get("/v1/sources").status_code == 200


def test_static_files_stay_open_when_reads_need_a_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", api_keys=[KEY], auth_reads=True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/").status_code == 200
        assert client.get("/v1/sources").status_code == 401
        assert client.get("/static/app.js").status_code == 200


def test_sources_lists_outlets_with_article_counts(
    client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    assert client.get("/v1/sources").json() == {"items": []}
    sample_articles.append(
        {"id": "no-outlet", "title": "An article without an outlet", "body": "Body text here."}
    )
    assert client.post("/v1/ingest", json={"articles": sample_articles}).status_code == 200
    items = client.get("/v1/sources").json()["items"]
    assert items == [
        {"source": "Coastal Sports Report", "articles": 2},
        {"source": "Metro Tech Daily", "articles": 2},
        {"source": "Northfield Tribune", "articles": 4},
        {"source": "The Harbor Ledger", "articles": 4},
        {"source": "Valley Wire", "articles": 4},
    ]
    assert "/v1/sources" in client.get("/openapi.json").json()["paths"]


def test_registry_source_counts_follow_deletes(loaded: Services) -> None:
    before = dict(loaded.registry.source_counts())
    assert before["Valley Wire"] == 4 and sum(before.values()) == 16
    valley_ids = loaded.registry.article_ids(sources=["Valley Wire"])
    for article_id in valley_ids:
        assert loaded.registry.delete(article_id) is not None
    assert "Valley Wire" not in dict(loaded.registry.source_counts())
