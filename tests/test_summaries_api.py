"""Summaries through the HTTP API (TestClient), the CLI (CliRunner) and the eval suite (tiny data, fast embedder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from evals.summaries import rouge_l_f1, run_summaries_eval
from newsdesk.cli import app as cli_app
from rag.settings import PROJECT_ROOT, Settings

SAMPLES_DIR = PROJECT_ROOT / "samples" / "news"


@pytest.fixture
def client(tmp_path: Path, sample_articles: list[dict[str, Any]]) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path / "data", embedder="hashing"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        assert test_client.post("/v1/ingest", json={"articles": sample_articles}).status_code == 200
        yield test_client


def error_code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return str(body["error"]["code"])


def test_post_summaries_brief(client: TestClient) -> None:
    response = client.post("/v1/summaries", json={"kind": "brief", "article_ids": ["fict-003"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "kind",
        "status",
        "text",
        "sentences",
        "citations",
        "articles",
        "writer",
        "prompt_id",
        "timings",
    }
    assert (body["kind"], body["status"], body["articles"]) == ("brief", "answered", ["fict-003"])
    assert set(body["sentences"][0]) == {"text", "citations", "support", "supported", "date"}
    assert {c["article_id"] for c in body["citations"]} == {"fict-003"}


def test_post_summaries_timeline_by_topic(client: TestClient) -> None:
    response = client.post(
        "/v1/summaries",
        json={"kind": "timeline", "topic": "ferry strike", "filters": {"sources": ["The Harbor Ledger"]}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    dates = [s["date"] for s in body["sentences"]]
    assert dates and dates == sorted(dates)
    assert {c["source"] for c in body["citations"]} == {"The Harbor Ledger"}


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"kind": "brief", "article_ids": ["no-such-article"]}, 404, "not_found"),
        ({"kind": "brief", "article_ids": ["fict-001", "fict-002"]}, 422, "invalid_request"),
        ({"kind": "digest"}, 422, "invalid_request"),
        ({"kind": "digest", "topic": "   "}, 422, "invalid_request"),
        ({"kind": "summary", "topic": "ferry"}, 422, "invalid_request"),
        ({"kind": "digest", "topic": "ferry", "max_sentences": 0}, 422, "invalid_request"),
        ({"kind": "digest", "topic": "x" * 3000}, 422, "invalid_request"),
        ({"kind": "digest", "topic": "ferry", "extra": 1}, 422, "invalid_request"),
    ],
)
def test_post_summaries_errors(client: TestClient, payload: dict[str, Any], status: int, code: str) -> None:
    assert error_code(client.post("/v1/summaries", json=payload), status) == code


def test_openapi_documents_the_summaries_errors(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/summaries"]["post"]
    assert {"404", "422", "503"} <= set(operation["responses"])


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "hashing")
    return CliRunner()


def test_cli_summarize(runner: CliRunner) -> None:
    empty = runner.invoke(cli_app, ["summarize", "--article", "fict-001"])
    assert empty.exit_code == 2 and "no articles ingested yet" in empty.output
    assert runner.invoke(cli_app, ["ingest", str(SAMPLES_DIR)]).exit_code == 0

    timeline = runner.invoke(cli_app, ["summarize", "--kind", "timeline", "--topic", "ferry strike"])
    assert timeline.exit_code == 0, timeline.output
    assert "2026-09-02: " in timeline.stdout and "status: answered" in timeline.stdout
    assert '"' in timeline.stdout  # the quotes of the citations

    as_json = runner.invoke(cli_app, ["summarize", "--article", "fict-015", "--json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert body["kind"] == "brief" and body["citations"][0]["copies"] == ["fict-016"]

    unknown = runner.invoke(cli_app, ["summarize", "--article", "nope"])
    assert unknown.exit_code == 2 and "no article with id 'nope'" in unknown.output
    bad_kind = runner.invoke(cli_app, ["summarize", "--kind", "poem", "--topic", "ferry"])
    assert bad_kind.exit_code == 2


def test_rouge_l() -> None:
    assert rouge_l_f1("the cat sat on the mat", "the cat sat on the mat") == 1.0
    assert rouge_l_f1("", "anything at all") == 0.0
    # LCS "the cat the mat" = 4 of 6 candidate and 5 reference tokens: F1 = 2 * 4/6 * 4/5 / (4/6 + 4/5)
    assert rouge_l_f1("the cat sat on the mat", "The cat, the red mat!") == pytest.approx(8 / 11)


def test_eval_summaries_on_a_tiny_set(tmp_path: Path, sample_articles: list[dict[str, Any]]) -> None:
    data = tmp_path / "writer_summaries.json"
    rows = [
        {"article_id": a["id"], "article": a["body"], "summary": a["title"] + "."}
        for a in sample_articles[:2]
        for _ in range(2)
    ]
    data.write_text(json.dumps(rows), encoding="utf-8")
    summary = run_summaries_eval(data, tmp_path / "out", embedder="hashing")
    assert (summary["articles"], summary["references"]) == (2, 4)
    assert summary["supported_share"] == 1.0 and summary["citations_verbatim_share"] == 1.0
    assert 0.0 < summary["rouge_l_f1"] <= summary["rouge_l_f1_best"] <= 1.0
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["suite"] == "summaries"
    assert len((tmp_path / "out" / "results.jsonl").read_text().splitlines()) == 2
