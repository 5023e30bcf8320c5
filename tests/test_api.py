from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.settings import Settings

CITATION_KEYS = {
    "n",
    "article_id",
    "chunk_id",
    "title",
    "source",
    "url",
    "published_at",
    "quote",
    "start",
    "end",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path / "data", embedder="hashing"))
    # raise_server_exceptions=False: a server error must show up as the HTTP response a caller would get.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def loaded_client(client: TestClient, sample_articles: list[dict[str, Any]]) -> TestClient:
    response = client.post("/v1/ingest", json={"articles": sample_articles})
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 16
    return client


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "articles": 0,
        "chunks": 0,
        "embedder": "hashing-256",
        "writer": "extractive",
        "vector_store": "chroma-embedded",
    }


def test_healthz_counts_after_ingest(loaded_client: TestClient) -> None:
    body = loaded_client.get("/healthz").json()
    assert body["articles"] == 16 and body["chunks"] > 16


def test_ingest_reports_added_and_rejected_items(
    client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    articles = [
        sample_articles[0],
        {"title": "No body here"},
        sample_articles[1],
        {"title": "Bad date", "body": "Text.", "published_at": "soon"},
    ]
    response = client.post("/v1/ingest", json={"articles": articles})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["added"], body["updated"], body["unchanged"]) == (2, 0, 0)
    assert body["article_ids"] == ["fict-001", "fict-002"]
    assert [r["index"] for r in body["rejected"]] == [1, 3]
    assert body["rejected"][0]["reason"] == "missing body (give 'body' or 'text')"
    assert "not an ISO 8601 date" in body["rejected"][1]["reason"]
    assert client.get("/healthz").json()["articles"] == 2

    again = client.post("/v1/ingest", json={"articles": articles[:1]}).json()
    assert (again["added"], again["unchanged"], again["rejected"]) == (0, 1, [])


def test_ingest_non_object_item_is_rejected_not_the_whole_batch(
    client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    # IngestRequest says items are validated one by one "so one bad article is rejected, not the whole
    # batch", and the pipeline rejects non-objects with a reason; the schema's list[dict] turns one stray item
    # into a 422 for the whole batch.
    response = client.post("/v1/ingest", json={"articles": [sample_articles[0], "oops"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == 1
    assert body["rejected"] == [{"index": 1, "reason": "an article must be a JSON object, got str"}]


def test_ingest_malformed_json_body(client: TestClient) -> None:
    response = client.post(
        "/v1/ingest", content=b'{"articles": [', headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "invalid_request")


@pytest.mark.parametrize(
    "payload",
    [{}, {"items": []}, {"articles": []}, {"articles": {"title": "x"}}, [{"title": "x", "body": "y"}]],
)
def test_ingest_without_an_articles_list(client: TestClient, payload: Any) -> None:
    error = assert_error(client.post("/v1/ingest", json=payload), 422, "invalid_request")
    if payload == {}:
        assert error["message"] == "articles: Field required"


def test_list_articles_with_source_filter_and_paging(loaded_client: TestClient) -> None:
    everything = loaded_client.get("/v1/articles").json()
    assert everything["total"] == 16 and len(everything["items"]) == 16
    dates = [item["published_at"] for item in everything["items"]]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert set(everything["items"][0]) == {
        "id",
        "title",
        "source",
        "url",
        "published_at",
        "author",
        "category",
    }

    ledger = loaded_client.get("/v1/articles", params={"source": "The Harbor Ledger"}).json()
    assert ledger["total"] == 4
    assert {i["id"] for i in ledger["items"]} == {"fict-001", "fict-011", "fict-012", "fict-013"}

    two = loaded_client.get(
        "/v1/articles", params=[("source", "Metro Tech Daily"), ("source", "Coastal Sports Report")]
    )
    assert {i["id"] for i in two.json()["items"]} == {"fict-002", "fict-010", "fict-004", "fict-008"}

    pages = [
        loaded_client.get("/v1/articles", params={"limit": 5, "offset": offset}).json()
        for offset in (0, 5, 10, 15)
    ]
    assert [p["total"] for p in pages] == [16] * 4
    assert [len(p["items"]) for p in pages] == [5, 5, 5, 1]
    assert [i["id"] for p in pages for i in p["items"]] == [i["id"] for i in everything["items"]]


def test_list_articles_by_date(loaded_client: TestClient) -> None:
    body = loaded_client.get(
        "/v1/articles", params={"since": "2026-11-01T00:00:00Z", "until": "2026-11-17T23:59:59Z"}
    ).json()
    assert {i["id"] for i in body["items"]} == {"fict-014", "fict-015"}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"since": "not a date"}])
def test_list_articles_rejects_bad_parameters(loaded_client: TestClient, params: dict[str, Any]) -> None:
    assert_error(loaded_client.get("/v1/articles", params=params), 422, "invalid_request")


def test_get_article_with_chunks(loaded_client: TestClient, sample_articles: list[dict[str, Any]]) -> None:
    response = loaded_client.get("/v1/articles/fict-005")
    assert response.status_code == 200
    body = response.json()
    source = sample_articles[4]
    assert body["id"] == "fict-005"
    assert (body["title"], body["source"], body["url"]) == (source["title"], source["source"], source["url"])
    assert body["body"] == source["body"]
    assert len(body["content_hash"]) == 64
    assert body["chunks"]
    for index, chunk in enumerate(body["chunks"]):
        assert set(chunk) == {"id", "index", "start", "end", "text"}
        assert chunk["index"] == index
        assert body["body"][chunk["start"] : chunk["end"]] == chunk["text"]


def test_unknown_article_is_a_404_with_the_error_shape(client: TestClient) -> None:
    error = assert_error(client.get("/v1/articles/nope"), 404, "not_found")
    assert "nope" in error["message"]
    assert_error(client.delete("/v1/articles/nope"), 404, "not_found")
    assert_error(client.get("/v1/no-such-route"), 404, "not_found")
    assert_error(client.put("/healthz"), 405, "method_not_allowed")


def test_delete_article(loaded_client: TestClient) -> None:
    response = loaded_client.delete("/v1/articles/fict-008")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(loaded_client.get("/v1/articles/fict-008"), 404, "not_found")
    assert_error(loaded_client.delete("/v1/articles/fict-008"), 404, "not_found")
    assert loaded_client.get("/v1/articles").json()["total"] == 15
    answer = loaded_client.post(
        "/v1/ask", json={"question": "Who scored the winning goal in the Coastal Cup final?"}
    )
    assert "fict-008" not in {c["article_id"] for c in answer.json()["citations"]}


def test_ask_response_shape(loaded_client: TestClient) -> None:
    response = loaded_client.post(
        "/v1/ask", json={"question": "Who scored the winning goal in the Coastal Cup final?"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "answered"
    assert "Lindqvist" in body["answer"]
    assert {"answer", "status", "sentences", "citations", "timings"} <= set(body)
    assert body["citations"]
    numbers = [c["n"] for c in body["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    for citation in body["citations"]:
        assert set(citation) >= CITATION_KEYS
        article = loaded_client.get(f"/v1/articles/{citation['article_id']}").json()
        assert article["body"][citation["start"] : citation["end"]] == citation["quote"]
        assert (citation["title"], citation["source"], citation["url"], citation["published_at"]) == (
            article["title"],
            article["source"],
            article["url"],
            article["published_at"],
        )
    for sentence in body["sentences"]:
        assert set(sentence) == {"text", "citations", "support", "supported"}
        assert sentence["supported"] is True and 0.0 <= sentence["support"] <= 1.0
        assert sentence["citations"] and set(sentence["citations"]) <= set(numbers)
        assert f"[{sentence['citations'][0]}]" in body["answer"]
    assert {"retrieve_ms", "write_ms", "verify_ms"} <= set(body["timings"])
    assert all(isinstance(v, float | int) and v >= 0 for v in body["timings"].values())


def test_ask_with_filters(loaded_client: TestClient) -> None:
    body = loaded_client.post(
        "/v1/ask",
        json={
            "question": "How much had the ferry strike cost Port Halden businesses?",
            "filters": {"sources": ["The Harbor Ledger"], "since": "2026-10-01T00:00:00Z"},
        },
    ).json()
    assert body["status"] == "answered"
    assert {c["source"] for c in body["citations"]} == {"The Harbor Ledger"}
    assert all(c["published_at"] >= "2026-10-01" for c in body["citations"])


def test_ask_off_topic_is_insufficient_evidence(loaded_client: TestClient) -> None:
    body = loaded_client.post(
        "/v1/ask", json={"question": "What is a good recipe for sourdough bread?"}
    ).json()
    assert body["status"] == "insufficient_evidence"
    assert body["citations"] == [] and body["sentences"] == []


def test_ask_on_an_empty_store(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "Who won the Coastal Cup?"}).json()
    assert body["status"] == "insufficient_evidence" and body["citations"] == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"question": ""},
        {"question": "x" * 2001},
        {"question": "Who won?", "k": 0},
        {"question": "Who won?", "unknown": 1},
        {"question": "Who won?", "filters": {"source": ["Valley Wire"]}},
    ],
)
def test_ask_rejects_invalid_requests(client: TestClient, payload: dict[str, Any]) -> None:
    assert_error(client.post("/v1/ask", json=payload), 422, "invalid_request")


def test_ask_blank_question_is_a_client_error(loaded_client: TestClient) -> None:
    # "   " passes min_length=1, then rag.pipeline.ask raises ValueError("the question is empty"), which
    # nothing turns into a response: the caller gets a 500 instead of a 422 with the error shape.
    assert_error(loaded_client.post("/v1/ask", json={"question": "   "}), 422, "invalid_request")


def test_docs_and_openapi(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/healthz", "/v1/ask", "/v1/ingest", "/v1/articles", "/v1/articles/{article_id}"} <= set(paths)
    index = client.get("/")
    assert index.status_code == 200 and "/docs" in index.text


def test_lifespan_reconciles_orphans_and_closes(
    tmp_path: Path, sample_articles: list[dict[str, Any]]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing")
    app = create_app(settings)
    with TestClient(app) as first:
        assert first.post("/v1/ingest", json={"articles": sample_articles[:2]}).json()["added"] == 2
        services = app.state.services
        vector = services.embedder.embed(["orphan"])
        services.store.upsert(["c_orphan"], vector, ["orphan"], [{"article_id": "gone"}])
        assert "c_orphan" in services.store.all_ids()
    app = create_app(settings)
    with TestClient(app) as second:
        assert "c_orphan" not in app.state.services.store.all_ids()
        assert second.get("/healthz").json()["articles"] == 2


def test_articles_text_filter_matches_title_or_body_and_pages(loaded_client: TestClient) -> None:
    body = loaded_client.get("/v1/articles", params={"text": "lantern"}).json()
    assert [item["id"] for item in body["items"]] == ["fict-013", "fict-005"]  # newest first
    both = loaded_client.get("/v1/articles", params={"text": "Brightlane", "limit": 2}).json()
    assert both["total"] == 4 and len(both["items"]) == 2
    literal = loaded_client.get("/v1/articles", params={"text": "100%_"}).json()
    assert literal["total"] == 0  # % and _ are matched literally, not as wildcards
