"""Token-based, sentence-aware chunking with character offsets (the langchain-text-splitters adapter)."""

from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.tokens import ENCODING_NAME
from rag.types import Chunk

# Paragraphs first, then lines, then sentence ends, then words: a chunk boundary falls on the coarsest unit that fits.
SEPARATORS = ["\n\n", "\n", r"(?<=[.!?])\s+", r"(?<=[;:])\s+", r"\s+", ""]


class Chunker:
    def __init__(self, chunk_tokens: int = 256, overlap_tokens: int = 32) -> None:
        if overlap_tokens >= chunk_tokens:
            raise ValueError("chunk overlap must be smaller than the chunk size")
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self._splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name=ENCODING_NAME,
            chunk_size=chunk_tokens,
            chunk_overlap=overlap_tokens,
            separators=SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",  # joins pieces with "" so every chunk is a verbatim substring
        )

    def split(self, article_id: str, content_hash: str, body: str) -> list[Chunk]:
        """Chunks whose text is exactly ``body[start:end]``; ids derive from the article's content hash."""
        chunks: list[Chunk] = []
        cursor = 0
        for piece in self._splitter.split_text(body):
            start = body.find(piece, cursor)
            if start < 0:  # overlap can move the match before the cursor
                start = body.find(piece)
            if start < 0:
                raise ValueError(f"chunk text not found in article {article_id!r}")
            end = start + len(piece)
            index = len(chunks)
            chunks.append(
                Chunk(
                    id=chunk_id(article_id, content_hash, index),
                    article_id=article_id,
                    index=index,
                    text=piece,
                    start=start,
                    end=end,
                )
            )
            cursor = start + 1
        return chunks


def chunk_id(article_id: str, content_hash: str, index: int) -> str:
    digest = hashlib.sha256(f"{article_id}\x00{content_hash}\x00{index}".encode()).hexdigest()[:24]
    return f"c_{digest}"
