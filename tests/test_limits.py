"""Request limits and hostile input: every rejection is a 4xx with the error shape, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.settings import Settings

LIMITS = {
    "max_body_bytes": 4000,
    "max_batch_articles": 3,
    "max_article_chars": 200,
    "max_question_chars": 50,
    "rate_limit_per_minute": 0,
}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path / "data", embedder="hashing", **LIMITS))
    with TestClient(app) as test_client:
        yield test_client


def article(n: int, body: str = "The council met on Tuesday and approved the budget.") -> dict[str, Any]:
    return {"id": f"lim-{n}", "title": f"Council story {n}", "body": body}


def test_body_over_the_limit_by_content_length(client: TestClient) -> None:
    big = {"articles": [article(0, "x" * 5000)]}
    message = assert_error(client.post("/v1/ingest", json=big), 413, "too_large")["message"]
    assert "4000 bytes" in message
    assert_error(client.post("/v1/ask", json={"question": "q" * 5000}), 413, "too_large")
    assert client.get("/healthz").json()["articles"] == 0


def test_body_over_the_limit_while_streaming(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is counted as the body arrives
        yield b'{"articles": [{"title": "t", "body": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}]}'

    response = client.post("/v1/ingest", content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413, "too_large")

    def small() -> Iterator[bytes]:
        yield b'{"articles": [{"title": "t", '
        yield b'"body": "A short streamed article."}]}'

    response = client.post("/v1/ingest", content=small(), headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json()["added"] == 1


def test_too_many_articles_is_413_and_nothing_is_written(client: TestClient) -> None:
    response = client.post("/v1/ingest", json={"articles": [article(n) for n in range(4)]})
    assert "at most 3 articles" in assert_error(response, 413, "too_large")["message"]
    assert client.get("/healthz").json()["articles"] == 0
    assert client.post("/v1/ingest", json={"articles": [article(n) for n in range(3)]}).json()["added"] == 3


def test_an_oversized_article_is_rejected_alone(client: TestClient) -> None:
    response = client.post("/v1/ingest", json={"articles": [article(0), article(1, "y" * 201), article(2)]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == 2 and body["article_ids"] == ["lim-0", "lim-2"]
    assert body["rejected"] == [{"index": 1, "reason": "body is 201 characters; the limit is 200"}]
    text = client.post("/v1/ingest", json={"articles": [{"title": "t", "text": "z" * 201}]}).json()
    assert text["rejected"][0]["reason"].startswith("body is 201 characters")


def test_question_length_is_a_setting(client: TestClient) -> None:
    assert client.post("/v1/ask", json={"question": "q" * 50}).status_code == 200
    message = assert_error(client.post("/v1/ask", json={"question": "q" * 51}), 422, "invalid_request")[
        "message"
    ]
    assert message == "question: at most 50 characters (got 51)"


def test_openapi_shows_the_configured_limits(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["AskRequest"]["properties"]["question"]["maxLength"] == 50
    assert schemas["IngestRequest"]["properties"]["articles"]["maxItems"] == 3


@pytest.mark.parametrize(
    ("path", "content", "status", "code"),
    [
        ("/v1/ask", b'{"question": ', 422, "invalid_request"),  # malformed JSON
        ("/v1/ask", b"\xff\xfe\x00not utf-8", 422, "invalid_request"),  # a UTF-16 mark, then garbage
        ("/v1/ask", b'{"question": "caf\xe9?"}', 400, "bad_request"),  # Latin-1 inside JSON
        ("/v1/ask", b'{"question": "a\x01b"}', 422, "invalid_request"),  # raw control character
        ("/v1/ask", b'{"question": "a\\u0000b"}', 422, "invalid_request"),  # escaped NUL
        ("/v1/ask", b'{"question": "\\u001b[31mred"}', 422, "invalid_request"),  # terminal escape
        ("/v1/ask", b'{"question": ""}', 422, "invalid_request"),
        ("/v1/ask", b'{"question": " \\t\\n "}', 422, "invalid_request"),
        ("/v1/ask", b'{"question": 42}', 422, "invalid_request"),
        ("/v1/ask", b'{"question": ["a"]}', 422, "invalid_request"),
        ("/v1/ask", b'{"question": "ok?", "k": "many"}', 422, "invalid_request"),
        ("/v1/ask", b'{"question": "ok?", "filters": {"sources": "one"}}', 422, "invalid_request"),
        ("/v1/ask", b'{"question": "ok?", "filters": {"since": "0001-01-01"}}', 422, "invalid_request"),
        ("/v1/ask", b'{"question": "ok?", "as_of": "9999-12-31T23:59:59-14:00"}', 422, "invalid_request"),
        ("/v1/ask", b"null", 422, "invalid_request"),
        ("/v1/ask", b"", 422, "invalid_request"),
        ("/v1/ask", b'"just a string"', 422, "invalid_request"),
        ("/v1/ingest", b'{"articles": "x"}', 422, "invalid_request"),
        ("/v1/ingest", b'{"articles": null}', 422, "invalid_request"),
        ("/v1/ingest", b"[1, 2", 422, "invalid_request"),
        ("/v1/ingest", b"\x80\x81", 400, "bad_request"),
    ],
)
def test_hostile_bodies_are_client_errors(
    client: TestClient, path: str, content: bytes, status: int, code: str
) -> None:
    response = client.post(path, content=content, headers={"content-type": "application/json"})
    assert_error(response, status, code)


def test_control_characters_in_articles_are_cleaned_not_fatal(client: TestClient) -> None:
    body = {"articles": [{"id": "ctl-1", "title": "Bell\x07 rings", "body": "Text\x00 with\x1b controls."}]}
    assert client.post("/v1/ingest", json=body).json()["added"] == 1
    stored = client.get("/v1/articles/ctl-1").json()
    assert (stored["title"], stored["body"]) == ("Bell rings", "Text with controls.")


@pytest.mark.parametrize(
    "params",
    [
        {"offset": 10**30},
        {"limit": "ten"},
        {"since": "0001-01-01"},
        {"source": [f"s{i}" for i in range(101)]},
    ],
)
def test_list_parameters_out_of_range_are_422(client: TestClient, params: dict[str, Any]) -> None:
    assert_error(client.get("/v1/articles", params=params), 422, "invalid_request")


def test_a_content_type_other_than_json(client: TestClient) -> None:
    data = json.dumps({"question": "Who?"})
    response = client.post("/v1/ask", content=data, headers={"content-type": "text/plain"})
    assert_error(response, 422, "invalid_request")
