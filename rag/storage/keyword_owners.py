"""chunk id → article id for every registered chunk, in memory, advanced by the registry's change log.

Retrieval maps dense hits to their articles through it (Chroma's metadata is not fetched: it makes a query ~7x
slower). It is loaded once in full and then changed only for the articles that changed, so a write costs a lookup
of that article's chunk ids, not a reload of every chunk.
"""

from __future__ import annotations

from rag.storage.registry import Registry


class ChunkOwners:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._seq = -1
        self._chunks: dict[str, list[str]] = {}  # article id → its chunk ids
        self.map: dict[str, str] = {}  # replaced, never mutated: a reader may be iterating the old one

    def advance(self) -> None:
        changes = self._registry.changed_since(self._seq) if self._seq >= 0 else None
        if changes is None:
            seq = self._registry.change_seq()  # before the rows: a later change is applied again next time
            owners = self._registry.chunk_owners()
            chunks: dict[str, list[str]] = {}
            for chunk_id, article_id in owners.items():
                chunks.setdefault(article_id, []).append(chunk_id)
            self._seq, self._chunks, self.map = seq, chunks, owners
            return
        article_ids, seq = changes
        if not article_ids:
            self._seq = seq
            return
        owners = dict(self.map)
        for article_id in article_ids:
            for chunk_id in self._chunks.pop(article_id, []):
                owners.pop(chunk_id, None)
            current = self._registry.chunk_ids(article_id)
            if current:
                self._chunks[article_id] = current
                owners.update(dict.fromkeys(current, article_id))
        self._seq, self.map = seq, owners
