"""Crash safety: SIGKILL a real `newsdesk ingest` process mid-run, rerun it, and the store holds exactly the
expected articles and chunks — no duplicates, no orphans, no stale versions — in the registry, Chroma and BM25."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingest.articles import to_article
from rag.pipeline import build_services
from rag.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT.parent / "shared" / "data" / "multihop" / "corpus.json"
ARTICLES = 80

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="needs ../shared/data/multihop/corpus.json")


def corpus(version: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(CORPUS.read_text(encoding="utf-8"))[:ARTICLES]
    if version == "b":  # every other article edited: the rerun must replace, not add
        for record in records[::2]:
            record["body"] = (
                record["body"] + "\n\nCorrection: an earlier version of this article misstated a date."
            )
    return records


def ingest_command(path: Path, data_dir: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_EMBEDDER": "hashing"}
    return [sys.executable, "-m", "newsdesk.cli", "ingest", str(path)], env


def registry_value(data_dir: Path, sql: str) -> int:
    path = data_dir / "articles.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2) as db:
            row = db.execute(sql).fetchone()
    except sqlite3.OperationalError:
        return 0  # the schema is not written yet
    return int(row[0]) if row else 0


def registry_count(data_dir: Path) -> int:
    return registry_value(data_dir, "SELECT COUNT(*) FROM articles")


def registry_generation(data_dir: Path) -> int:
    """Grows by one with every article written (added, updated or deleted)."""
    return registry_value(data_dir, "SELECT value FROM meta WHERE key = 'generation'")


def kill_when(path: Path, data_dir: Path, reached: Callable[[], bool]) -> None:
    """Start an ingest and SIGKILL it as soon as ``reached()`` holds; fail if it finished first."""
    command, env = ingest_command(path, data_dir)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline and not reached():
            time.sleep(0.01)
        assert process.poll() is None, "ingest finished before it could be killed; raise ARTICLES"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def run_ingest(path: Path, data_dir: Path) -> None:
    command, env = ingest_command(path, data_dir)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def assert_store_is_exactly(data_dir: Path, records: list[dict[str, Any]]) -> None:
    expected = {a.id: a for a in (to_article(r) for r in records)}
    services = build_services(Settings(data_dir=data_dir, embedder="hashing"))
    try:
        stored, total = services.registry.articles(limit=10_000)
        assert total == len(expected)
        assert {a.id: a.content_hash for a in stored} == {i: a.content_hash for i, a in expected.items()}
        registry_ids = services.registry.all_chunk_ids()
        for article in expected.values():
            wanted = {c.id for c in services.chunker.split(article.id, article.content_hash, article.body)}
            assert set(services.registry.chunk_ids(article.id)) == wanted
        assert services.store.all_ids() == registry_ids  # no orphan vectors, none missing
        assert services.store.count() == len(registry_ids)  # no duplicates
        keyword = services.retriever.keyword
        assert set(keyword.owners()) == registry_ids  # BM25 names exactly the live chunks
    finally:
        services.close()


@pytest.mark.parametrize("after_articles", [0, 40])
def test_killed_first_ingest_then_rerun(tmp_path: Path, after_articles: int) -> None:
    records = corpus("a")
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    data_dir = tmp_path / "data"
    kill_when(path, data_dir, lambda: registry_count(data_dir) > after_articles)
    assert registry_count(data_dir) < len(records)
    run_ingest(path, data_dir)
    assert_store_is_exactly(data_dir, records)


def test_killed_update_then_rerun(tmp_path: Path) -> None:
    first, second = corpus("a"), corpus("b")
    path_a, path_b = tmp_path / "a.json", tmp_path / "b.json"
    path_a.write_text(json.dumps(first), encoding="utf-8")
    path_b.write_text(json.dumps(second), encoding="utf-8")
    data_dir = tmp_path / "data"
    run_ingest(path_a, data_dir)
    # Updates keep the article count: kill once the run has written a few of them (the generation moves).
    before = registry_generation(data_dir)
    kill_when(path_b, data_dir, lambda: registry_generation(data_dir) >= before + 3)
    assert registry_generation(data_dir) < before + len(second) // 2  # killed mid-run, not at the end
    run_ingest(path_b, data_dir)
    assert_store_is_exactly(data_dir, second)
