"""build_services(settings) — the one place providers are chosen — ask(), and retrieval over several queries."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rag.answering.compose import NO_ANSWER, ExtractiveWriter, assemble
from rag.answering.reader import Reader
from rag.answering.verify import Verifier
from rag.chunking import Chunker
from rag.llm.llms import ModelWriter, Prompt, Writer
from rag.retrieval.coverage import unknown_terms
from rag.retrieval.embedders import Embedder, HashingEmbedder, MiniLMEmbedder
from rag.retrieval.rerank import RerankConfig
from rag.retrieval.retrieve import RetrievalConfig, Retriever, fuse
from rag.settings import Settings
from rag.storage.db import open_database
from rag.storage.keyword import KeywordIndex
from rag.storage.registry import Registry
from rag.storage.store import VectorStore
from rag.types import Answer, Draft, Filters, Passage


@dataclass
class Services:
    settings: Settings
    registry: Registry
    store: VectorStore
    embedder: Embedder
    chunker: Chunker
    retriever: Retriever
    writer: Writer
    verifier: Verifier

    def close(self) -> None:
        self.registry.close()


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "hashing":
        return HashingEmbedder()
    if settings.embedder == "openai":
        from rag.llm.openai_adapter import OpenAIEmbedder

        return OpenAIEmbedder(
            settings.openai_base_url,
            settings.openai_api_key,
            settings.openai_embedding_model,
            settings.openai_timeout_s,
            settings.openai_max_retries,
        )
    return MiniLMEmbedder(
        batch_size=settings.embed_batch_size,
        quantized=settings.embedder == "minilm-dynq8",
        cache_dir=settings.models_dir,
        max_tokens=settings.embed_max_tokens,
    )


def build_writer(settings: Settings, embedder: Embedder) -> Writer:
    if settings.writer == "extractive":
        base = ExtractiveWriter(embedder, settings.max_answer_sentences, settings.min_relevance)
        return Reader(base, settings.min_answerability)
    prompt = Prompt(settings.prompts_dir, "answer", 1)
    if settings.writer == "openai":
        from rag.llm.openai_adapter import OpenAICompletion

        completion: object = OpenAICompletion(
            settings.openai_base_url,
            settings.openai_api_key,
            settings.openai_model,
            settings.openai_timeout_s,
            settings.openai_max_retries,
        )
    else:
        from rag.llm.llama_adapter import LlamaCompletion, local_model_file

        path, version = local_model_file(settings.local_model, settings.local_model_path, settings.models_dir)
        local = LlamaCompletion(path, settings.local_threads, settings.local_ctx)
        if version == 2:
            from rag.answering.checked_model import CheckedModelWriter

            reader = build_writer(settings.model_copy(update={"writer": "extractive"}), embedder)
            assert isinstance(reader, Reader)
            return CheckedModelWriter(
                local,
                Prompt(settings.prompts_dir, "answer", 2),
                reader,
                settings.local_min_answerability,
                settings.max_tokens,
            )
        completion = local
    return ModelWriter(completion, prompt, settings.max_tokens)  # type: ignore[arg-type]


def build_services(settings: Settings, embedder: Embedder | None = None) -> Services:
    embedder = embedder or build_embedder(settings)
    registry = Registry(open_database(settings.database_url, settings.registry_path))
    store = VectorStore(settings, embedder.name, embedder.dim)
    # With a shared database each replica's keyword index is its own: nobody else will catch it up, so a search
    # that finds it behind the registry applies the changes at once (no grace period for another writer).
    keyword = KeywordIndex(
        registry, settings.data_dir / "keyword", catch_up_after_s=0.0 if settings.database_url else None
    )
    return Services(
        settings=settings,
        registry=registry,
        store=store,
        embedder=embedder,
        chunker=Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens),
        retriever=Retriever(
            registry,
            store,
            embedder,
            keyword,
            RetrievalConfig(
                settings.retrieval_mode,
                settings.dense_weight,
                settings.keyword_weight,
                settings.retrieve_candidates,
                settings.query_understanding,
                settings.focus_weight,
                settings.max_chunks_per_article,
                settings.rrf_k,
                RerankConfig(settings.rerank_depth, settings.rerank_weight),
            ),
        ),
        writer=build_writer(settings, embedder),
        verifier=Verifier(embedder, settings.min_support),
    )


def answer_from_passages(
    services: Services,
    question: str,
    passages: Sequence[Passage],
    timings: dict[str, float],
    writer_question: str | None = None,
) -> Answer:
    """Write from the passages and verify; the writer may be given another phrasing (a chat follow-up's standalone
    rewrite) than the ``question`` the answer reports."""
    writer = services.writer
    started = time.perf_counter()
    draft = writer.write(writer_question or question, passages)
    timings["write_ms"] = _ms(started)
    return verified_answer(services, question, draft, passages, timings)


def verified_answer(
    services: Services, question: str, draft: Draft, passages: Sequence[Passage], timings: dict[str, float]
) -> Answer:
    """Check every drafted sentence against what it cites and build the cited answer."""
    started = time.perf_counter()
    checked = services.verifier.check(draft.sentences, passages)
    timings["verify_ms"] = _ms(started)
    return assemble(
        question,
        checked,
        passages,
        writer=draft.writer,
        prompt_id=draft.prompt_id,
        unsupported=services.settings.unsupported,
        timings=timings,
        draft=draft,
    )


def ask(
    services: Services,
    question: str,
    filters: Filters | None = None,
    k: int | None = None,
    as_of: datetime | None = None,
) -> Answer:
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    missing = missing_terms(services, question)
    if missing:
        return no_answer(services, question, timings, missing)
    passages = services.retriever.search(question, k or services.settings.retrieve_k, filters, as_of)
    timings["retrieve_ms"] = _ms(started)
    if not passages:
        return no_answer(services, question, timings)
    answer = answer_from_passages(services, question, passages, timings)
    return answer.model_copy(update={"timings": {**answer.timings, "total_ms": _ms(started)}})


def missing_terms(services: Services, question: str) -> list[str]:
    """What the question names or asks about that no article mentions (``rag.retrieval.coverage``), when that check
    is on."""
    if not services.settings.abstain_on_unknown_names:
        return []
    retriever = services.retriever
    return unknown_terms(question, retriever.known_sources(), retriever.keyword)


def no_answer(
    services: Services, question: str, timings: dict[str, float], missing: Sequence[str] = ()
) -> Answer:
    """The reply when there is nothing to write from; ``missing``: what the question asks about that no article
    mentions."""
    quoted = ", ".join(f"“{name}”" for name in missing)
    return Answer(
        question=question,
        answer=f"{NO_ANSWER} No article mentions {quoted}." if missing else NO_ANSWER,
        status="insufficient_evidence",
        sentences=[],
        citations=[],
        writer=services.writer.name,
        prompt_id=services.writer.prompt_id,
        timings=timings,
    )


def search_many(
    services: Services,
    queries: Sequence[str],
    k: int,
    filters: Filters | None = None,
    as_of: datetime | None = None,
) -> list[Passage]:
    """Passages for several phrasings of one need (a chat follow-up and its standalone rewrite).

    Each query is searched on its own and the rankings are fused by reciprocal rank with the retriever's constant,
    so a passage found by both ranks first; a syndicated story is still shown once. One query is a plain search.
    """
    unique = list(dict.fromkeys(query.strip() for query in queries if query.strip()))
    if not unique:
        raise ValueError("no query to search")
    if len(unique) == 1:
        return services.retriever.search(unique[0], k, filters, as_of)
    found: dict[str, Passage] = {}
    rankings: list[tuple[float, list[str]]] = []
    for query in unique:
        # Deeper than k, so a passage just below one query's cut-off can still win on the fused score.
        passages = services.retriever.search(query, 2 * k, filters, as_of)
        rankings.append((1.0, [p.chunk.id for p in passages]))
        for passage in passages:
            found.setdefault(passage.chunk.id, passage)
    story_of, _ = services.retriever.story_members()
    shown: dict[str, str] = {}  # story → the article that represents it
    fused: list[Passage] = []
    for chunk_id, score in fuse(rankings, services.retriever.config.rrf_k):
        passage = found[chunk_id]
        article_id = passage.chunk.article_id
        if shown.setdefault(story_of.get(article_id, article_id), article_id) != article_id:
            continue
        fused.append(passage.model_copy(update={"score": score}))
        if len(fused) == k:
            break
    return fused


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
