from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.loaders import Record
from ingest.pipeline import Ingestor
from rag.pipeline import Services, build_services
from rag.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """Every test here runs on both back ends: SQLite files and PostgreSQL."""
    return Settings(data_dir=tmp_path / "data", embedder="hashing", database_url=database_url)


def snapshot(services: Services) -> tuple[tuple[int, int], int, set[str], int]:
    return (
        services.registry.counts(),
        services.store.count(),
        services.store.all_ids(),
        services.registry.generation(),
    )


def assert_consistent(services: Services) -> None:
    assert services.store.all_ids() == services.registry.all_chunk_ids()


def keyword_articles(services: Services, query: str) -> set[str]:
    chunks = services.registry.all_chunks()
    article_of = {c.id: c.article_id for c in chunks}
    hits = services.retriever.keyword.search(query, 50)
    assert all(chunk_id in article_of for chunk_id, _ in hits)  # BM25 never names a chunk the registry lacks
    return {article_of[chunk_id] for chunk_id, _ in hits}


def test_first_ingest_adds_everything(
    services: Services, ingestor: Ingestor, sample_articles: list[dict[str, Any]]
) -> None:
    report = ingestor.ingest(sample_articles)
    assert (report.added, report.updated, report.unchanged, report.rejected) == (16, 0, 0, [])
    articles, chunks = services.registry.counts()
    assert articles == 16
    assert chunks == report.chunks_written > 16
    assert services.store.count() == chunks
    assert report.article_ids == [f"fict-{i:03d}" for i in range(1, 17)]
    assert report.summary().startswith("added 16, updated 0, unchanged 0, rejected 0")
    assert_consistent(services)


def test_second_ingest_changes_nothing(loaded: Services, sample_articles: list[dict[str, Any]]) -> None:
    before = snapshot(loaded)
    ticks: list[int] = []
    report = Ingestor(loaded).ingest(sample_articles, progress=ticks.append)
    assert (report.added, report.updated, report.unchanged, report.chunks_written) == (0, 0, 16, 0)
    assert sum(ticks) == 16
    assert snapshot(loaded) == before


def test_unchanged_survives_a_restart(
    settings: Settings, loaded: Services, sample_articles: list[dict[str, Any]]
) -> None:
    before = snapshot(loaded)
    reopened = build_services(settings)
    try:
        report = Ingestor(reopened).ingest(sample_articles)
        assert report.unchanged == 16 and report.chunks_written == 0
        assert snapshot(reopened) == before
    finally:
        reopened.close()


def test_changed_body_replaces_all_old_chunks(
    loaded: Services, sample_articles: list[dict[str, Any]]
) -> None:
    old_ids = set(loaded.registry.chunk_ids("fict-003"))
    others_before = loaded.registry.all_chunk_ids() - old_ids
    assert old_ids <= loaded.store.all_ids()
    edited = dict(sample_articles[2])
    assert edited["id"] == "fict-003"
    edited["body"] = (
        edited["body"].replace("6.4 meters", "6.5 meters")
        + "\n\nCorrection: an earlier version misstated the crest."
    )

    report = Ingestor(loaded).ingest([*sample_articles[:2], edited])

    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    new_ids = set(loaded.registry.chunk_ids("fict-003"))
    assert new_ids and not new_ids & old_ids
    assert not old_ids & loaded.registry.all_chunk_ids()
    assert not old_ids & loaded.store.all_ids()
    assert loaded.registry.all_chunk_ids() - new_ids == others_before
    assert_consistent(loaded)
    article = loaded.registry.article("fict-003")
    assert article is not None and "6.5 meters" in article.body
    for chunk in loaded.registry.chunks_of("fict-003"):
        assert article.body[chunk.start : chunk.end] == chunk.text
    assert "fict-003" in keyword_articles(loaded, "misstated correction crest")


def test_changed_metadata_only_is_an_update(loaded: Services, sample_articles: list[dict[str, Any]]) -> None:
    old_ids = set(loaded.registry.chunk_ids("fict-008"))
    edited = dict(sample_articles[7], title="Mariners win the Coastal Cup (updated)")
    report = Ingestor(loaded).ingest([edited])
    assert report.updated == 1
    assert not set(loaded.registry.chunk_ids("fict-008")) & old_ids
    article = loaded.registry.article("fict-008")
    assert article is not None and article.title == "Mariners win the Coastal Cup (updated)"
    assert_consistent(loaded)


def test_repeated_id_in_one_batch_is_applied_in_order(services: Services, ingestor: Ingestor) -> None:
    v1 = {"id": "dup", "title": "Version one", "body": "The first version of the story."}
    v2 = {"id": "dup", "title": "Version two", "body": "The second version of the story, corrected."}
    report = ingestor.ingest([v1, v2, v2])
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    article = services.registry.article("dup")
    assert article is not None and article.title == "Version two"
    assert services.registry.counts()[0] == 1
    assert_consistent(services)


def test_delete_removes_from_registry_store_and_keyword_index(loaded: Services) -> None:
    ingestor = Ingestor(loaded)
    assert "fict-008" in keyword_articles(loaded, "Lindqvist 112th minute")
    chunk_ids = set(loaded.registry.chunk_ids("fict-008"))
    assert chunk_ids

    assert ingestor.delete("fict-008") is True

    assert loaded.registry.article("fict-008") is None
    assert loaded.registry.chunks_of("fict-008") == []
    assert not chunk_ids & loaded.store.all_ids()
    assert loaded.registry.counts()[0] == 15
    assert_consistent(loaded)
    assert "fict-008" not in keyword_articles(loaded, "Lindqvist 112th minute")
    passages = loaded.retriever.search("Who scored the winning goal in the Coastal Cup final?", 20)
    assert passages and all(p.chunk.article_id != "fict-008" for p in passages)
    assert ingestor.delete("fict-008") is False


def test_delete_unknown_article(loaded: Services) -> None:
    before = snapshot(loaded)
    assert Ingestor(loaded).delete("no-such-article") is False
    assert snapshot(loaded) == before


def test_rejected_records_leave_the_store_unchanged(loaded: Services) -> None:
    before = snapshot(loaded)
    bad: list[Any] = [
        {"title": "No body"},
        {"title": "Empty", "body": "   "},
        {"title": "Bad date", "body": "Text.", "published_at": "last week"},
        {"id": "bad id!", "title": "Bad id", "body": "Text."},
        "not an object",
        Record("feed.jsonl:3", None, "malformed JSON: Expecting value at column 1"),
    ]
    report = Ingestor(loaded).ingest(bad)
    assert (report.added, report.updated, report.unchanged, report.chunks_written) == (0, 0, 0, 0)
    assert [r.index for r in report.rejected] == [0, 1, 2, 3, 4, 5]
    reasons = [r.reason for r in report.rejected]
    assert reasons[0] == "missing body (give 'body' or 'text')"
    assert reasons[1] == "empty body"
    assert "not an ISO 8601 date" in reasons[2]
    assert reasons[3].startswith("id must be")
    assert reasons[4] == "an article must be a JSON object, got str"
    assert reasons[5].startswith("malformed JSON")
    assert [r.origin for r in report.rejected][4:] == ["[4]", "feed.jsonl:3"]
    assert snapshot(loaded) == before


def test_good_records_around_a_bad_one_are_ingested(services: Services, ingestor: Ingestor) -> None:
    records = [
        {"id": "ok-1", "title": "One", "body": "The first good article."},
        {"id": "bad", "title": "Bad"},
        {"id": "ok-2", "title": "Two", "body": "The second good article."},
    ]
    report = ingestor.ingest(records)
    assert report.added == 2
    assert [(r.index, r.origin) for r in report.rejected] == [(1, "[1]")]
    assert {a.id for a in services.registry.articles()[0]} == {"ok-1", "ok-2"}


def test_millisecond_timestamp_is_rejected_not_fatal(services: Services, ingestor: Ingestor) -> None:
    # A record with epoch milliseconds must be rejected like any invalid record; today the ValueError escapes
    # and aborts the whole batch, so the good article after it is never stored.
    records = [
        {"id": "ms", "title": "Millis", "body": "Dated in milliseconds.", "published_at": 1_758_000_000_000},
        {"id": "ok", "title": "Fine", "body": "A good article."},
    ]
    report = ingestor.ingest(records)
    assert [r.index for r in report.rejected] == [0]
    assert report.added == 1
    assert services.registry.article("ok") is not None


def test_reconcile_removes_orphan_vectors(loaded: Services) -> None:
    ingestor = Ingestor(loaded)
    assert ingestor.reconcile() == 0
    before = loaded.store.all_ids()
    text = "Kofi Lindqvist scored the winning goal in the Coastal Cup final."
    orphan_ids = ["c_orphan_one", "c_orphan_two"]
    loaded.store.upsert(
        orphan_ids,
        loaded.embedder.embed([text, text]),
        [text, text],
        [{"article_id": "gone", "source": "Ghost"}, {"article_id": "gone", "source": "Ghost"}],
    )
    assert loaded.store.all_ids() == before | set(orphan_ids)
    # Retrieval resolves ids through the registry, so orphans never surface even before reconcile.
    passages = loaded.retriever.search(text, 10)
    assert passages and not {p.chunk.id for p in passages} & set(orphan_ids)

    assert ingestor.reconcile() == 2

    assert loaded.store.all_ids() == before
    assert_consistent(loaded)
    assert ingestor.reconcile() == 0
