"""Many clients at once: concurrent ingests (with overlapping and repeated articles), asks, reads and deletes.

Afterwards the registry holds exactly the distinct articles that should be there, and Chroma holds exactly the
registry's chunks: nothing lost, nothing duplicated, no orphan vectors.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from rag.pipeline import Services
from rag.settings import Settings

THREADS = 12
TOWNS = ["Ashford", "Belmont", "Carrow", "Dunmore", "Elsworth", "Fairhaven", "Glenrock", "Hollins"]


def synthetic(n: int) -> dict[str, Any]:
    town = TOWNS[n % len(TOWNS)]
    body = " ".join(
        f"Story {n}: the {town} council voted {n + i} to {i} on measure {n * 7 + i}, officials said on day {i}."
        for i in range(1, 30)
    )
    return {
        "id": f"conc-{n:03d}",
        "title": f"{town} council vote {n}",
        "source": "Concurrency Wire",
        "body": body,
    }


def test_concurrent_ingest_ask_and_delete_lose_and_duplicate_nothing(
    tmp_path: Path, sample_articles: list[dict[str, Any]]
) -> None:
    articles = sample_articles + [synthetic(n) for n in range(40)]
    doomed = {f"conc-{n:03d}" for n in range(0, 40, 10)}  # ingested, then deleted concurrently with the rest
    rng = random.Random(7)
    jobs: list[tuple[str, Any]] = []
    # Every article is sent three times: alone, and in two overlapping batches, by different threads at once.
    for article in articles:
        jobs.append(("ingest", [article]))
    for _ in range(2):
        shuffled = articles[:]
        rng.shuffle(shuffled)
        jobs += [("ingest", shuffled[i : i + 7]) for i in range(0, len(shuffled), 7)]
    questions = [
        "Who scored the winning goal in the Coastal Cup final?",
        "How high did the Tamsin River crest?",
        "How did the Belmont council vote on the measure?",
        "What happened in Dunmore?",
    ]
    jobs += [("ask", questions[i % len(questions)]) for i in range(60)]
    jobs += [("list", None) for _ in range(20)]
    rng.shuffle(jobs)

    app = create_app(Settings(data_dir=tmp_path / "data", embedder="hashing", rate_limit_per_minute=0))
    with TestClient(app) as client:
        in_flight, most = [0], [0]
        lock = threading.Lock()
        ingest = app.state.ingestor.ingest

        def counting_ingest(*args: Any, **kwargs: Any) -> Any:
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
            try:
                return ingest(*args, **kwargs)
            finally:
                with lock:
                    in_flight[0] -= 1

        app.state.ingestor.ingest = counting_ingest

        def run(job: tuple[str, Any]) -> tuple[str, int, Any]:
            kind, payload = job
            if kind == "ingest":
                response = client.post("/v1/ingest", json={"articles": payload})
            elif kind == "ask":
                response = client.post("/v1/ask", json={"question": payload})
            else:
                response = client.get("/v1/articles", params={"limit": 200})
            return kind, response.status_code, response.json()

        def delete_after_ingest(article_id: str) -> tuple[str, int, Any]:
            assert client.post("/v1/ingest", json={"articles": [by_id[article_id]]}).status_code == 200
            response = client.delete(f"/v1/articles/{article_id}")
            return "delete", response.status_code, None

        by_id = {a["id"]: a for a in articles}
        calls: list[Callable[[], tuple[str, int, Any]]] = [lambda job=job: run(job) for job in jobs]
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(call) for call in calls]
            results = [f.result() for f in futures]
            # The deletes race the asks and reads of a second round.
            second = [pool.submit(delete_after_ingest, article_id) for article_id in sorted(doomed)]
            second += [pool.submit(run, ("ask", q)) for q in questions * 5]
            results += [f.result() for f in second]

        failures = [(kind, status, body) for kind, status, body in results if status >= 400]
        assert failures == []
        assert most[0] >= 2, most  # ingests really overlapped
        for kind, _, body in results:
            if kind == "ingest":
                assert body["rejected"] == []
            elif kind == "ask":
                assert body["status"] in ("answered", "insufficient_evidence")
                for citation in body["citations"]:
                    assert citation["article_id"] in by_id

        expected = {a["id"] for a in articles} - doomed
        listed = client.get("/v1/articles", params={"limit": 200}).json()
        assert listed["total"] == len(expected) == 52
        assert {item["id"] for item in listed["items"]} == expected
        assert client.get("/healthz").json()["articles"] == len(expected)

        services: Services = app.state.services
        registry_chunks = services.registry.all_chunk_ids()
        assert services.store.all_ids() == registry_chunks
        assert services.store.count() == len(registry_chunks)
        for article_id in expected:
            detail = client.get(f"/v1/articles/{article_id}").json()
            assert [c["index"] for c in detail["chunks"]] == list(range(len(detail["chunks"])))
            assert all(detail["body"][c["start"] : c["end"]] == c["text"] for c in detail["chunks"])
            assert {c["id"] for c in detail["chunks"]} <= registry_chunks
