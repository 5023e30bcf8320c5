"""Request ids, JSON access log lines, Prometheus metrics, the last-resort 500 and the documented error shape."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from rag.pipeline import Services, build_services
from rag.settings import Settings

KEY = "k-0123456789abcdef-obs"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        embedder="hashing",
        api_keys=[KEY],
        rate_limit_per_minute=0,
        max_body_bytes=50_000,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def samples(metrics_text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "trace-42.a:b_c"}).headers["X-Request-ID"] == (
        "trace-42.a:b_c"
    )
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz").headers["X-Request-ID"] != generated
    # A value that could forge log lines or flood them is replaced, not echoed.
    for unsafe in ("two words", "x" * 200, "a\tb", "<script>"):
        echoed = client.get("/healthz", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert echoed != unsafe and re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_request_id_on_every_kind_of_error(client: TestClient) -> None:
    headers = {"X-Request-ID": "err-1"}
    responses = [
        client.get("/v1/articles/nope", headers=headers),  # 404 from a route
        client.get("/no/such/route", headers=headers),  # 404 from the router
        client.post("/v1/ingest", json={"articles": []}, headers=headers),  # 401 from the guard
        client.post("/v1/ask", json={"question": "x" * 60_000}, headers=headers),  # 413 from the body limit
        client.post("/v1/ask", json={}, headers=headers),  # 422
    ]
    assert [r.status_code for r in responses] == [404, 404, 401, 413, 422]
    assert all(r.headers["X-Request-ID"] == "err-1" for r in responses)


def test_one_json_access_line_per_request(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="newsdesk.access"):
        client.get("/v1/articles/some-id", headers={"X-Request-ID": "log-1"})
        client.post("/v1/ask", json={"question": "Who won?"}, headers={"X-Request-ID": "log-2"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "newsdesk.access"]
    assert len(lines) == 2
    first, second = lines
    assert first["method"] == "GET" and first["path"] == "/v1/articles/some-id"
    assert first["route"] == "/v1/articles/{article_id}" and first["status"] == 404
    assert first["request_id"] == "log-1"
    assert second["method"] == "POST" and second["status"] == 200 and second["request_id"] == "log-2"
    for line in lines:
        assert {"method", "path", "status", "duration_ms", "request_id"} <= set(line)
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_metrics_count_requests_and_ask_stages(
    client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    assert (
        client.post(
            "/v1/ingest", json={"articles": [*sample_articles[:4], {"title": "x"}]}, headers=auth
        ).json()["added"]
        == 4
    )
    for _ in range(3):
        answer = client.post(
            "/v1/ask", json={"question": "Who scored the winning goal in the Coastal Cup final?"}
        )
        assert answer.status_code == 200
    client.get("/v1/articles/missing")
    client.get("/v1/articles/also-missing")
    client.get("/wp-admin/../../etc/passwd")
    client.post("/v1/ingest", json={"articles": [{}]})  # 401

    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    requests = "newsdesk_http_requests_total"
    assert value(found, requests, method="POST", route="/v1/ask", status="200") == 3
    assert value(found, requests, method="POST", route="/v1/ingest", status="200") == 1
    assert value(found, requests, method="POST", route="/v1/ingest", status="401") == 1
    # Label values are route templates, so ids and scanners' paths do not create new series.
    assert value(found, requests, method="GET", route="/v1/articles/{article_id}", status="404") == 2
    assert value(found, requests, method="GET", route="unmatched", status="404") == 1
    latency = "newsdesk_http_request_duration_seconds_count"
    assert value(found, latency, method="POST", route="/v1/ask", status="200") == 3
    for stage in ("retrieve", "write", "verify", "total"):
        assert value(found, "newsdesk_ask_stage_seconds_count", stage=stage) == 3, stage
        assert value(found, "newsdesk_ask_stage_seconds_sum", stage=stage) > 0
    assert value(found, "newsdesk_ingest_articles_total", outcome="added") == 4
    assert value(found, "newsdesk_ingest_articles_total", outcome="rejected") == 1


def test_metrics_of_two_apps_are_separate(tmp_path: Path) -> None:
    for n in range(2):
        app = create_app(Settings(data_dir=tmp_path / f"d{n}", embedder="hashing"))
        with TestClient(app) as test_client:
            test_client.get("/healthz")
            found = samples(test_client.get("/metrics").text)
            assert (
                value(found, "newsdesk_http_requests_total", method="GET", route="/healthz", status="200")
                == 1
            )


def test_unexpected_errors_are_a_500_with_the_error_shape_and_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(settings: Settings) -> Services:
        services = build_services(settings)

        def explode(*_: Any, **__: Any) -> Any:
            raise RuntimeError("secret internals at /srv/newsdesk")

        services.retriever.search = explode  # type: ignore[method-assign]
        return services

    app = create_app(Settings(data_dir=tmp_path / "data", embedder="hashing"), services_factory=broken)
    # raise_server_exceptions stays on: the error must be answered by the app, not escape to the server.
    with TestClient(app) as test_client, caplog.at_level(logging.ERROR, logger="newsdesk.api"):
        response = test_client.post("/v1/ask", json={"question": "Who?"}, headers={"X-Request-ID": "boom-1"})
        error = assert_error(response, 500, "internal_error")
        assert "secret" not in response.text and "Traceback" not in response.text
        assert "X-Request-ID" in error["message"] and response.headers["X-Request-ID"] == "boom-1"
        found = samples(test_client.get("/metrics").text)
    assert value(found, "newsdesk_http_requests_total", method="POST", route="/v1/ask", status="500") == 1
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1 and "boom-1" in logged[0].getMessage()
    assert "secret internals" in str(logged[0].exc_info[1])  # type: ignore[index]


def test_every_operation_documents_its_errors_with_the_error_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["schemas"]["ErrorResponse"]["required"] == ["error"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = {int(code) for code in operation["responses"] if code[0] in "45"}
            assert 500 in codes, (method, path)
            for code in codes:
                content = operation["responses"][str(code)]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, (
                    method,
                    path,
                    code,
                )
                assert operation["responses"][str(code)]["description"]
    ask = schema["paths"]["/v1/ask"]["post"]["responses"]
    assert {"400", "401", "413", "422", "429", "500", "503"} <= set(ask)
    ingest = schema["paths"]["/v1/ingest"]["post"]["responses"]
    assert {"400", "401", "413", "422", "429", "500"} <= set(ingest)
