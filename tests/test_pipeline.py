from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from rag.answering.compose import NO_ANSWER
from rag.answering.reader import Reader
from rag.pipeline import Services, ask, build_services
from rag.retrieval.embedders import HashingEmbedder
from rag.settings import Settings


class TinyEmbedder:
    """A different (real, deterministic) embedder: its vectors must not be mixed with another embedder's."""

    name = "tiny-8"
    dim = 8

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.ones((len(texts), self.dim), dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_build_services_with_hashing(services: Services, settings: Settings) -> None:
    assert isinstance(services.embedder, HashingEmbedder)
    assert isinstance(services.writer, Reader)
    assert services.settings is settings
    assert settings.registry_path.exists()
    assert settings.chroma_dir.is_dir()
    assert services.store.count() == 0
    assert services.store.heartbeat() is True


def test_store_refuses_a_different_embedder(settings: Settings, loaded: Services) -> None:
    with pytest.raises(RuntimeError, match="built with embedder 'hashing-256'"):
        build_services(settings, embedder=TinyEmbedder())


def test_ask_answers_with_verbatim_citations(loaded: Services) -> None:
    answer = ask(loaded, "  Who scored the winning goal in the Coastal Cup final?  ")
    assert answer.question == "Who scored the winning goal in the Coastal Cup final?"
    assert answer.status == "answered"
    assert "Lindqvist" in answer.answer and "112th minute" in answer.answer
    assert "fict-008" in {c.article_id for c in answer.citations}
    assert answer.writer == "extractive" and answer.prompt_id is None
    assert answer.citations
    for citation in answer.citations:
        article = loaded.registry.article(citation.article_id)
        assert article is not None
        assert article.body[citation.start : citation.end] == citation.quote
        assert (citation.title, citation.source, citation.url) == (article.title, article.source, article.url)
        assert citation.published_at == article.published_at
    cited = {n for s in answer.sentences for n in s.citations}
    assert cited == {c.n for c in answer.citations}
    assert all(s.supported and s.citations for s in answer.sentences)


def test_ask_reports_its_timings(loaded: Services) -> None:
    answer = ask(loaded, "How high did the Tamsin River crest?")
    assert answer.status == "answered"
    assert {"retrieve_ms", "write_ms", "verify_ms"} <= set(answer.timings)
    # ask() computes total_ms after assembling the Answer, into a dict the frozen Answer already copied, so
    # the total is never reported.
    assert "total_ms" in answer.timings
    assert answer.timings["total_ms"] >= answer.timings["retrieve_ms"]


def test_ask_on_an_empty_store(services: Services) -> None:
    answer = ask(services, "Who won the Coastal Cup?")
    assert answer.status == "insufficient_evidence"
    assert answer.answer == NO_ANSWER
    assert answer.sentences == [] and answer.citations == []
    assert "retrieve_ms" in answer.timings


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_ask_rejects_an_empty_question(loaded: Services, question: str) -> None:
    with pytest.raises(ValueError, match="the question is empty"):
        ask(loaded, question)


def test_k_overrides_the_setting(loaded: Services) -> None:
    answer = ask(loaded, "How did the ferry strike end?", k=1)
    assert len({c.chunk_id for c in answer.citations}) <= 1
