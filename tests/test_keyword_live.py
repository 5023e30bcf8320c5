"""The tantivy keyword index follows the registry article by article: an update changes only that article's
postings, a crash between the registry write and the index commit is caught up, and a reopened index that is up to
date is not rebuilt."""

from __future__ import annotations

import fcntl
import threading
import time
from collections import Counter
from typing import Any

from ingest.pipeline import Ingestor
from rag.pipeline import Services
from rag.storage.keyword import CATCH_UP_AFTER_S, KeywordIndex, tokenize
from rag.storage.registry import Registry


def registry_frequencies(registry: Registry) -> Counter[str]:
    """Document frequency of every token, recomputed from the registry's rows (title + chunk text)."""
    titles = registry.titles()
    counts: Counter[str] = Counter()
    for chunk in registry.all_chunks():
        counts.update(set(tokenize([f"{titles[chunk.article_id]}\n{chunk.text}"])[0]))
    return counts


def index_frequencies(keyword: KeywordIndex, tokens: list[str]) -> tuple[dict[str, int], int]:
    counts, total = keyword.document_frequencies(tokens)
    return {t: counts.get(t, 0) for t in tokens}, total


def test_an_update_replaces_only_that_articles_postings(
    loaded: Services, sample_articles: list[dict[str, Any]]
) -> None:
    keyword = loaded.retriever.keyword
    before = registry_frequencies(loaded.registry)
    tokens = sorted(before)
    assert index_frequencies(keyword, tokens) == (dict(before), loaded.registry.counts()[1])

    target = next(a for a in sample_articles if a["id"] == "fict-008")
    old_tokens = set(tokenize([target["title"] + "\n" + target["body"]])[0])
    target["body"] = (
        target["body"] + " The Quarlbeck trophy was then repainted vermilion by the groundskeepers."
    )
    assert Ingestor(loaded).ingest([target]).updated == 1

    after = registry_frequencies(loaded.registry)
    new_tokens = set(tokenize([target["title"] + "\n" + target["body"]])[0])
    assert {"quarlbeck", "vermilion"} <= new_tokens - old_tokens
    # Every token's count is the registry's, and a token the updated article never held kept its count exactly.
    counts, total = index_frequencies(keyword, sorted(set(after) | set(before)))
    assert counts == {t: after.get(t, 0) for t in counts} and total == loaded.registry.counts()[1]
    untouched = [t for t in before if t not in old_tokens | new_tokens]
    assert untouched and all(counts[t] == before[t] for t in untouched)
    assert counts["quarlbeck"] >= 1 and before["quarlbeck"] == 0
    hits = keyword.search("Quarlbeck vermilion", 5)
    assert hits and {loaded.retriever.keyword.owners()[c] for c, _ in hits} == {"fict-008"}


def test_a_delete_removes_the_articles_postings_and_nothing_else(loaded: Services) -> None:
    keyword = loaded.retriever.keyword
    before = registry_frequencies(loaded.registry)
    assert Ingestor(loaded).delete("fict-008")
    after = registry_frequencies(loaded.registry)
    counts, total = index_frequencies(keyword, sorted(before))
    assert counts == {t: after.get(t, 0) for t in before} and total == loaded.registry.counts()[1]
    assert not keyword.search("Lindqvist 112th minute", 5) or all(
        keyword.owners().get(c) != "fict-008" for c, _ in keyword.search("Lindqvist 112th minute", 5)
    )
    assert "fict-008" not in set(keyword.owners().values())


def test_a_registry_write_the_index_missed_is_caught_up(
    loaded: Services, sample_articles: list[dict[str, Any]]
) -> None:
    """A writer that dies between its registry write and its index commit: the next process to open the index
    applies the change, and a reader that was already running catches up by itself."""
    keyword = loaded.retriever.keyword
    assert keyword.search("Lindqvist 112th minute", 5)
    chunks = loaded.registry.chunks_of("fict-008")
    article = loaded.registry.article("fict-008")
    assert article is not None
    loaded.registry.delete("fict-008")  # the registry only: no sync, as if the process died here
    other = Registry(loaded.settings.registry_path)
    try:
        reopened = KeywordIndex(other, loaded.settings.data_dir / "keyword")
        assert not _owned_by(reopened, "Lindqvist 112th minute", "fict-008")
        loaded.registry.replace(article, chunks)  # and back again, still without a sync
        deadline = time.monotonic() + 30 * CATCH_UP_AFTER_S
        while not _owned_by(keyword, "Lindqvist 112th minute", "fict-008"):
            assert time.monotonic() < deadline, "the running reader never caught the index up"
            time.sleep(0.1)
        # The other index sees the running reader's catch-up commit.
        assert _owned_by(reopened, "Lindqvist 112th minute", "fict-008")
    finally:
        other.close()


def test_an_up_to_date_index_is_opened_without_rebuilding(loaded: Services) -> None:
    directory = loaded.settings.data_dir / "keyword"
    meta = directory / "meta.json"
    stamp = meta.read_bytes()
    other = Registry(loaded.settings.registry_path)
    try:
        second = KeywordIndex(other, directory)
        assert meta.read_bytes() == stamp  # nothing committed: no rebuild, no write
        assert second.search("Lindqvist 112th minute", 5) == loaded.retriever.keyword.search(
            "Lindqvist 112th minute", 5
        )
    finally:
        other.close()


def test_an_unreadable_index_folder_is_rebuilt_from_the_registry(loaded: Services) -> None:
    directory = loaded.settings.data_dir / "keyword"
    expected = loaded.retriever.keyword.search("Lindqvist 112th minute", 5)
    (directory / "meta.json").write_text("{not json")
    other = Registry(loaded.settings.registry_path)
    try:
        assert KeywordIndex(other, directory).search("Lindqvist 112th minute", 5) == expected
    finally:
        other.close()


def test_tokenize_keeps_the_bm25s_rules() -> None:
    assert tokenize(["a", "The cats were RUNNING to 3d 42 x naïve_x", ""]) == [
        [],
        ["cat", "were", "run", "3d", "42", "naïve_x"],
        [],
    ]


def _owned_by(keyword: KeywordIndex, query: str, article_id: str) -> bool:
    owners = keyword.owners()
    return any(owners.get(chunk_id) == article_id for chunk_id, _ in keyword.search(query, 10))


def test_a_search_never_waits_for_a_writer(loaded: Services, sample_articles: list[dict[str, Any]]) -> None:
    """Another process holds the index's writer lock: an ingest in this process waits for it after its registry
    write, and searches meanwhile answer from the last commit instead of queueing behind the writer."""
    keyword = loaded.retriever.keyword
    target = next(a for a in sample_articles if a["id"] == "fict-008")
    target["body"] += " The Quarlbeck trophy was then repainted vermilion by the groundskeepers."
    lock_path = loaded.settings.data_dir / "keyword.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # "another process" is writing the index
        writer = threading.Thread(target=lambda: Ingestor(loaded).ingest([target]))
        writer.start()
        deadline = time.monotonic() + 60
        while "vermilion" not in loaded.registry.chunks_of("fict-008")[-1].text:
            assert time.monotonic() < deadline, "the ingest never reached its registry write"
            time.sleep(0.05)
        searcher = threading.Thread(
            target=lambda: [keyword.search("Quarlbeck vermilion", 5) for _ in range(20)]
        )
        searcher.start()
        searcher.join(timeout=60)
        assert not searcher.is_alive(), "a search waited for the writer"
        assert writer.is_alive()  # still waiting for the lock file
        assert not _owned_by(keyword, "Quarlbeck vermilion", "fict-008")  # the last commit: not yet indexed
        fcntl.flock(handle, fcntl.LOCK_UN)
    writer.join(timeout=60)
    assert _owned_by(keyword, "Quarlbeck vermilion", "fict-008")
