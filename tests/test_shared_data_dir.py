"""Several processes sharing one data dir (API workers beside a Chroma server): the keyword index is written by one
process at a time and read by all, and reconcile never deletes another process's in-flight vectors."""

from __future__ import annotations

import threading
from typing import Any

from ingest.pipeline import Ingestor
from rag.pipeline import Services
from rag.storage.keyword import KeywordIndex
from rag.storage.registry import Registry


def test_two_indexes_share_the_persisted_keyword_index(loaded: Services) -> None:
    directory = loaded.settings.data_dir / "keyword"
    first = KeywordIndex(loaded.registry, directory)
    expected = first.search("Lindqvist 112th minute", 5)
    assert expected and (directory / "meta.json").exists()
    # A second "process": its own registry connection and index, reading what the first one committed.
    other_registry = Registry(loaded.settings.registry_path)
    try:
        second = KeywordIndex(other_registry, directory)
        assert second.search("Lindqvist 112th minute", 5) == expected
        # A write through the first is seen by the second at its next search, with no reopening.
        assert Ingestor(loaded).delete("fict-008")
        assert not second.search("Lindqvist 112th minute", 5) or expected != second.search(
            "Lindqvist 112th minute", 5
        )
        assert "fict-008" not in set(second.owners().values())
        assert not list(directory.parent.glob("bm25*"))  # the bm25s index of older versions is gone
    finally:
        other_registry.close()


def test_reconcile_waits_for_an_in_flight_write(loaded: Services) -> None:
    ingestor = Ingestor(loaded)
    text = "A vector written by another process, whose registry switch has not happened yet."
    counted: list[int] = []
    with ingestor.write_lock():
        loaded.store.upsert(["c_in_flight"], loaded.embedder.embed([text]), [text], [{"article_id": "x"}])
        worker = threading.Thread(target=lambda: counted.append(Ingestor(loaded).reconcile()))
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive() and "c_in_flight" in loaded.store.all_ids()  # reconcile is waiting
    worker.join(timeout=30)
    # The "writer" released the lock without registering its chunk (it crashed): now it is an orphan.
    assert counted == [1] and "c_in_flight" not in loaded.store.all_ids()


def test_ingest_still_works_with_the_lock(services: Services, sample_articles: list[dict[str, Any]]) -> None:
    report = Ingestor(services).ingest(sample_articles)
    assert report.added == 16
    assert (services.settings.data_dir / "write.lock").exists()
    assert services.store.all_ids() == services.registry.all_chunk_ids()
