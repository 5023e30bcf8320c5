"""API keys, the refusal to serve an open API on a public interface, rate limiting and path traversal."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from api.app import create_app
from api.limits import TokenBuckets
from api.limits_db import DatabaseTokenBuckets
from api.security import UnsafeExposure, access, is_loopback
from newsdesk.cli import app as cli_app
from rag.settings import Settings
from rag.storage.db import open_database

KEY = "k-0123456789abcdef-one"
OTHER_KEY = "k-fedcba9876543210-two"
ARTICLE = {"id": "sec-1", "title": "Harbour bridge reopens", "body": "The harbour bridge reopened on Monday."}

ClientFactory = Callable[..., TestClient]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[ClientFactory]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        options: dict[str, Any] = {"data_dir": tmp_path / f"data{len(clients)}", "embedder": "hashing"}
        client = TestClient(create_app(Settings(**(options | overrides))))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- API keys -------------------------------------------------------------------------------------------------------


def test_writes_need_a_key_when_keys_are_set(make_client: ClientFactory) -> None:
    client = make_client(api_keys=[KEY, OTHER_KEY])
    missing = client.post("/v1/ingest", json={"articles": [ARTICLE]})
    assert "Authorization: Bearer" in assert_error(missing, 401, "unauthorized")["message"]
    assert missing.headers["WWW-Authenticate"] == "Bearer"

    for header in (bearer("k-0123456789abcdef-onX"), bearer(KEY + "x"), {"Authorization": f"Basic {KEY}"}):
        wrong = client.post("/v1/ingest", json={"articles": [ARTICLE]}, headers=header)
        assert assert_error(wrong, 401, "unauthorized")["message"] == "the API key is not valid"
        assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/healthz").json()["articles"] == 0  # nothing got through

    ok = client.post("/v1/ingest", json={"articles": [ARTICLE]}, headers=bearer(KEY))
    assert ok.status_code == 200 and ok.json()["added"] == 1
    assert_error(client.delete("/v1/articles/sec-1"), 401, "unauthorized")
    assert_error(
        client.delete("/v1/articles/sec-1", headers=bearer("nope-nope-nope-nope")), 401, "unauthorized"
    )
    assert client.delete("/v1/articles/sec-1", headers=bearer(OTHER_KEY)).status_code == 204  # any listed key


def test_reads_stay_open_unless_auth_reads(make_client: ClientFactory) -> None:
    client = make_client(api_keys=[KEY])
    assert client.post("/v1/ingest", json={"articles": [ARTICLE]}, headers=bearer(KEY)).status_code == 200
    assert client.get("/v1/articles").json()["total"] == 1
    assert client.get("/v1/articles/sec-1").status_code == 200
    assert client.post("/v1/ask", json={"question": "When did the bridge reopen?"}).status_code == 200
    assert client.get("/metrics").status_code == 200


def test_auth_reads_protects_reads_but_not_health_or_docs(make_client: ClientFactory) -> None:
    client = make_client(api_keys=[KEY], auth_reads=True)
    for method, path, payload in [
        ("GET", "/v1/articles", None),
        ("GET", "/v1/articles/sec-1", None),
        ("POST", "/v1/ask", {"question": "When did the bridge reopen?"}),
        ("GET", "/metrics", None),
    ]:
        assert_error(client.request(method, path, json=payload), 401, "unauthorized")
        assert client.request(method, path, json=payload, headers=bearer(KEY)).status_code in (200, 404)
    for path in ("/healthz", "/openapi.json", "/docs", "/"):
        assert client.get(path).status_code == 200, path


def test_openapi_declares_the_bearer_scheme_on_protected_operations(make_client: ClientFactory) -> None:
    open_schema = make_client().get("/openapi.json").json()
    assert "securitySchemes" not in open_schema.get("components", {})

    schema = make_client(api_keys=[KEY]).get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "One of the keys in NEWSDESK_API_KEYS.",
    }
    protected = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    }
    assert protected == {
        "POST /v1/ingest",
        "DELETE /v1/articles/{article_id}",
        "POST /v1/feeds",  # subscribing and refreshing write too (issue 6)
        "POST /v1/feeds/refresh",
    }
    reads = make_client(api_keys=[KEY], auth_reads=True).get("/openapi.json").json()["paths"]
    assert reads["/v1/ask"]["post"]["security"] and reads["/v1/articles"]["get"]["security"]
    assert "security" not in reads["/healthz"]["get"]


def test_request_classes() -> None:
    assert access("POST", "/v1/ingest") == "write"
    assert access("DELETE", "/v1/articles/x") == "write"
    assert access("PUT", "/v1/anything-new") == "write"  # unknown state-changing routes default to write
    assert access("POST", "/v1/chat") == access("POST", "/v1/summaries") == "read"
    assert access("DELETE", "/v1/conversations/abc") == "read"
    assert access("GET", "/static/app.js") == "open"
    assert access("POST", "/v1/ask") == "read"
    assert access("GET", "/v1/articles") == "read"
    assert access("GET", "/healthz") == "open"


def test_api_keys_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_API_KEYS", f" {KEY} ,{OTHER_KEY},")
    settings = Settings()
    assert settings.api_keys == [KEY, OTHER_KEY]
    assert KEY not in repr(settings) and "api_keys" not in settings.model_dump()
    monkeypatch.setenv("NEWSDESK_API_KEYS", "short")
    with pytest.raises(ValidationError, match="at least 16"):
        Settings()


# --- exposure ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "news.example.com"])
def test_refuses_an_open_api_on_a_public_interface(tmp_path: Path, host: str) -> None:
    with pytest.raises(UnsafeExposure, match="NEWSDESK_API_KEYS"):
        create_app(Settings(data_dir=tmp_path, embedder="hashing", host=host))
    create_app(Settings(data_dir=tmp_path, embedder="hashing", host=host, api_keys=[KEY]))
    create_app(Settings(data_dir=tmp_path, embedder="hashing", host=host, allow_open=True))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


def test_serve_refuses_a_public_host_without_keys(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app, ["serve", "--host", "0.0.0.0", "--port", "1"], env={"NEWSDESK_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "refusing to serve the API on 0.0.0.0" in " ".join(result.output.split())


def test_open_api_warning_at_start_up(make_client: ClientFactory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="newsdesk.api"):
        make_client()
    assert any("is open: no API keys" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="newsdesk.api"):
        make_client(api_keys=[KEY])
    assert not any("is open" in r.getMessage() for r in caplog.records)


# --- rate limiting ------------------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(make_client: ClientFactory, database_url: str | None) -> None:
    client = make_client(rate_limit_per_minute=3, database_url=database_url)
    for _ in range(3):
        assert client.get("/v1/articles").status_code == 200
    limited = client.get("/v1/articles")
    assert "3 requests a minute" in assert_error(limited, 429, "rate_limited")["message"]
    assert limited.headers["Retry-After"] == "20"  # one token every 60/3 s
    assert_error(client.post("/v1/ask", json={"question": "Who?"}), 429, "rate_limited")
    # Health checks and metrics scrapes are not limited.
    assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200


def test_rate_limit_is_per_key(make_client: ClientFactory, database_url: str | None) -> None:
    client = make_client(rate_limit_per_minute=2, api_keys=[KEY, OTHER_KEY], database_url=database_url)
    for _ in range(2):
        assert client.get("/v1/articles", headers=bearer(KEY)).status_code == 200
    assert_error(client.get("/v1/articles", headers=bearer(KEY)), 429, "rate_limited")
    assert client.get("/v1/articles", headers=bearer(OTHER_KEY)).status_code == 200
    # Without a valid key a caller is limited by IP, and guessing keys spends that IP's tokens.
    assert client.get("/v1/articles").status_code == 200
    assert_error(
        client.post("/v1/ingest", json={"articles": [ARTICLE]}, headers=bearer("x" * 20)), 401, "unauthorized"
    )
    assert_error(
        client.post("/v1/ingest", json={"articles": [ARTICLE]}, headers=bearer("y" * 20)), 429, "rate_limited"
    )


def test_rate_limit_zero_disables_it(make_client: ClientFactory) -> None:
    client = make_client(rate_limit_per_minute=0)
    assert all(client.get("/v1/articles").status_code == 200 for _ in range(50))


def test_token_bucket_refills_and_forgets_idle_clients() -> None:
    now = [0.0]
    buckets = TokenBuckets(2, 1.0, clock=lambda: now[0], max_clients=3)
    assert buckets.take("a") == 0.0 and buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(1.0)
    now[0] = 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] = 1.0
    assert buckets.take("a") == 0.0
    for name in "bcde":
        buckets.take(name)
    now[0] = 100.0
    buckets.take("f")  # over max_clients: the refilled buckets are dropped
    assert len(buckets._buckets) <= 3


def test_shared_token_buckets_refill_and_hold_across_processes(tmp_path: Path, database_url: str | None) -> None:
    """Two bucket sets on one database (two replicas) spend one bucket per client."""
    now = [1000.0]
    dbs = [open_database(database_url, tmp_path / "limits.sqlite3") for _ in range(2)]
    a, b = (DatabaseTokenBuckets(db, 2, 1.0, clock=lambda: now[0]) for db in dbs)
    assert a.take("client") == 0.0 and b.take("client") == 0.0
    assert a.take("client") == pytest.approx(1.0) and b.take("client") == pytest.approx(1.0)
    assert a.take("other") == 0.0
    now[0] += 0.5
    assert b.take("client") == pytest.approx(0.5)
    now[0] += 0.5
    assert a.take("client") == 0.0
    now[0] -= 30  # a replica whose clock runs behind refills nothing and takes no token back
    assert b.take("client") == pytest.approx(1.0)
    for db in dbs:
        db.close()


# --- path traversal ---------------------------------------------------------------------------------------------------

TRAVERSALS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "..%252F..%252Fetc%252Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5C..%5Cetc%5Cpasswd",
    "....//....//etc/passwd",
    "%2Fetc%2Fpasswd",
    "..",
    "%00",
    "..%00",
    "file:%2F%2F%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("article_id", TRAVERSALS)
def test_article_ids_never_reach_the_filesystem(
    make_client: ClientFactory, sample_articles: list[dict[str, Any]], article_id: str
) -> None:
    client = make_client()
    assert client.post("/v1/ingest", json={"articles": sample_articles[:2]}).json()["added"] == 2
    for method in ("GET", "DELETE"):
        response = client.request(method, f"/v1/articles/{article_id}")
        assert response.status_code in (404, 422), (method, article_id, response.status_code)
        assert "root:" not in response.text
        assert set(response.json()) == {"error"}
    assert client.get("/healthz").json()["articles"] == 2


def test_ingest_never_reads_paths_or_urls(make_client: ClientFactory) -> None:
    client = make_client()
    body = client.post(
        "/v1/ingest",
        json={
            "articles": [
                {"title": "x", "url": "file:///etc/passwd"},
                {"title": "x", "body": "text", "id": "../../etc/passwd"},
                "/etc/passwd",
            ]
        },
    ).json()
    assert body["added"] == 0
    assert [r["reason"] for r in body["rejected"]] == [
        "missing body (give 'body' or 'text')",
        "id must be 1-200 characters of letters, digits, '.', '_', ':' or '-'",
        "an article must be a JSON object, got str",
    ]
