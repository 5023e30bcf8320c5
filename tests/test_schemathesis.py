"""Property-based tests of the whole HTTP API against its own OpenAPI schema (schemathesis).

Every operation in the schema is fuzzed with schema-conforming (positive) and schema-violating (negative) requests
over a store holding the 16 sample articles, and no response may be a 5xx (schemathesis' `not_a_server_error`). The
examples are derandomized, so a run is repeatable; over 1,000 requests are made in total.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case

from api.app import create_app
from rag.settings import Settings

POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# (positive, negative) examples per operation; asking is the operation with the most behind it.
BUDGET = {
    "POST /v1/ask": (350, 200),
    "POST /v1/ingest": (150, 150),
    "GET /v1/articles": (150, 100),
    "GET /v1/articles/{article_id}": (100, 0),
    "DELETE /v1/articles/{article_id}": (100, 0),
}
DEFAULT_BUDGET = (25, 25)  # operations without parameters yield one case; new operations get some coverage
MIN_TOTAL_CASES = 1000


def _without_lifespan(app: Any) -> Callable[..., Any]:
    """The app for schemathesis' ASGI client, whose lifespan the TestClient below already runs."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        await app(scope, receive, send)

    return asgi


def test_api_never_answers_with_a_server_error(tmp_path: Path, sample_articles: list[dict[str, Any]]) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data", embedder="hashing", rate_limit_per_minute=0))
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    with TestClient(app) as client:
        assert client.post("/v1/ingest", json={"articles": sample_articles}).json()["added"] == 16
        schema = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan(app))
        operations = [result.ok() for result in schema.get_all_operations()]
        labels = {operation.label for operation in operations}
        assert set(BUDGET) <= labels and {"GET /healthz", "GET /metrics"} <= labels

        for operation in operations:
            for mode, examples in zip(
                (POSITIVE, NEGATIVE), BUDGET.get(operation.label, DEFAULT_BUDGET), strict=True
            ):
                if not examples:
                    continue

                @settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def check(case: Case) -> None:
                    counts[case.operation.label] += 1
                    response = case.call()
                    statuses[response.status_code] += 1
                    case.validate_response(response, checks=[not_a_server_error])

                try:
                    check()
                except Unsatisfiable:
                    # No schema-violating request exists when there are no parameters, or only free-form strings.
                    assert mode is NEGATIVE, operation.label
    seconds = time.perf_counter() - started
    assert counts.total() >= MIN_TOTAL_CASES, counts
    assert seconds < 120, f"{counts.total()} cases took {seconds:.0f}s"
    assert not any(status >= 500 for status in statuses)
    assert statuses[200] > 0 and statuses[422] > 0  # both accepted and rejected requests were made
