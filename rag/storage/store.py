"""Chroma adapter: the one module that imports chromadb.

Embedded (PersistentClient under the data dir) by default, a Chroma server when ``NEWSDESK_CHROMA_URL`` is set.
Embeddings are always computed by newsdesk and passed in, so Chroma never loads (or downloads) a model of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from rag.settings import Settings

Where = dict[str, Any]


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    distance: float


class VectorStore:
    def __init__(self, settings: Settings, embedder_name: str, dim: int) -> None:
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            self._client: Any = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
        self._collection = self._client.get_or_create_collection(
            name=settings.collection,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedder": embedder_name, "dim": dim},
        )
        stored = self._collection.metadata or {}
        if stored.get("embedder") not in (None, embedder_name):
            raise RuntimeError(
                f"collection {settings.collection!r} was built with embedder {stored.get('embedder')!r}, "
                f"not {embedder_name!r}; set NEWSDESK_EMBEDDER to the route that built it (e.g. minilm), use another "
                "NEWSDESK_COLLECTION, or re-ingest into a fresh data dir"
            )

    def upsert(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        if not ids:
            return
        self._collection.upsert(
            ids=list(ids), embeddings=vectors.tolist(), documents=list(documents), metadatas=list(metadatas)
        )

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._collection.delete(ids=list(ids))

    def query(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[VectorHit]:
        if k <= 0:
            return []
        result = self._collection.query(
            query_embeddings=[vector.tolist()],
            n_results=k,
            where=where or None,
            # Metadata is not fetched: it makes a 200-hit query ~7x slower (1.7 ms → 12 ms measured).
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[0.0] * len(ids)])[0]
        return [VectorHit(chunk_id=i, distance=float(d)) for i, d in zip(ids, distances, strict=True)]

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        page = 5000
        offset = 0
        while True:
            got = self._collection.get(limit=page, offset=offset, include=[])["ids"]
            ids.update(got)
            if len(got) < page:
                return ids
            offset += page

    def records(self, ids: Sequence[str]) -> tuple[np.ndarray, list[str], list[dict[str, Any]]]:
        """Stored vectors, documents and metadata of these ids, in this order (`newsdesk bench` copies them)."""
        by_id: dict[str, tuple[Any, str, dict[str, Any]]] = {}
        page = 5000
        for offset in range(0, len(ids), page):
            got = self._collection.get(
                ids=list(ids[offset : offset + page]), include=["embeddings", "documents", "metadatas"]
            )
            for item in zip(got["ids"], got["embeddings"], got["documents"], got["metadatas"], strict=True):
                by_id[item[0]] = (item[1], item[2], dict(item[3] or {}))
        rows = [by_id[i] for i in ids]
        vectors = np.asarray([r[0] for r in rows], dtype=np.float32).reshape(len(rows), -1)
        return vectors, [r[1] for r in rows], [r[2] for r in rows]

    def max_batch_size(self) -> int:
        """The most records one upsert may carry (Chroma's limit)."""
        return int(self._client.get_max_batch_size())

    def count(self) -> int:
        return int(self._collection.count())

    def heartbeat(self) -> bool:
        try:
            self._client.heartbeat()
        except Exception:
            return False
        return True
