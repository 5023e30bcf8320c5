"""`newsdesk eval natural`: the hand-written natural questions (../shared/data/natural) asked the way a user asks them.

Three settings, each through the normal ingest (``ingest.pipeline.Ingestor``) and ``rag.pipeline.ask`` with default
settings and the chosen writer (dated questions pass their ``as_of``):

- ``full``: one store with all 609 MultiHop-RAG articles (built once into OUT/store, or a given data dir reused).
- ``small``: one store per question: its gold article(s) + 4 seeded others, or for an unanswerable question the 5
  articles that match it best lexically (``evals.natural_data``), so abstaining there is not trivially easy.
- ``seed``: a one-article store (``../shared/data/seed/kharkiv.txt`` through the .txt loader) with our own
  hand-written questions (``evals/cases/seed_questions.json``).

Every chunk is embedded once per run: all stores share one embedder that memoises vectors by text (primed from a
reused full store). Figures per setting, per question type and per dev half (``evals.natural_metrics``) go to
OUT/summary.json; every question's answer, short answer, status, answerability, cited urls and scores to
OUT/questions.jsonl.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evals.cases import PROJECT_ROOT
from evals.multihop import load_corpus
from evals.natural_data import (
    NaturalQuestion,
    TopicMatcher,
    dev_halves,
    load_questions,
    small_store_articles,
    stratified_slice,
)
from evals.natural_metrics import Outcome, score, summarise
from evals.smoke import code_version
from evals.support import CachedEmbedder
from ingest.loaders import read_records
from ingest.pipeline import Ingestor
from rag.pipeline import Services, ask, build_embedder, build_services, build_writer
from rag.settings import Settings

SETTINGS = ("full", "small", "seed")
SEED_QUESTIONS = PROJECT_ROOT / "evals" / "cases" / "seed_questions.json"


@dataclasses.dataclass
class NaturalRun:
    out: Path
    shared_data: Path
    settings: Sequence[str] = SETTINGS
    half: str = "all"  # A | B | all
    writer: str | None = None  # default: NEWSDESK_WRITER
    data_dir: Path | None = None  # the full store (default OUT/store; reused when it holds the corpus)
    seed: int = 0
    limit: int | None = None  # a stratified slice of N natural questions
    distractors_from_slice: bool = False  # draw small stores' other articles from the slice's own articles
    seed_questions: Path = SEED_QUESTIONS


class NaturalEval:
    def __init__(self, run: NaturalRun, console: Console | None = None) -> None:
        self.run = run
        self.console = console or Console(stderr=True)
        base = Settings()
        self.settings = base.model_copy(update={"writer": run.writer or base.writer})
        self.embedder = CachedEmbedder(build_embedder(self.settings))
        # One writer for every store: a model writer loads its model once, not once per small store.
        self.writer = build_writer(self.settings, self.embedder)

    def services_at(self, data_dir: Path) -> Services:
        settings = self.settings.model_copy(update={"data_dir": data_dir})
        built = build_services(settings.model_copy(update={"writer": "extractive"}), self.embedder)
        return dataclasses.replace(built, settings=settings, writer=self.writer)

    def progress(self) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )

    def ingest(self, services: Services, records: Sequence[Any], label: str | None = None) -> None:
        if label is None:
            Ingestor(services).ingest(records)
            return
        with self.progress() as bar:
            task = bar.add_task(label, total=len(records))
            Ingestor(services).ingest(records, progress=lambda n: bar.advance(task, n))

    def ask_one(
        self, services: Services, question: NaturalQuestion, gold_urls: list[str], half: str, setting: str
    ) -> dict[str, Any]:
        started = time.perf_counter()
        answer = ask(services, question.question, as_of=question.asked_at)
        seconds = time.perf_counter() - started
        short = answer.short_answer.text if answer.short_answer else None
        cited = list(dict.fromkeys(c.url for c in answer.citations))
        got = Outcome(answer.status, answer.answer, short, cited, answer.answerability, seconds)
        return {
            "setting": setting,
            "id": question.id,
            "type": question.type,
            "half": half,
            "question": question.question,
            "as_of": question.as_of.isoformat() if question.as_of else None,
            "answerable": question.answerable,
            "gold": question.answer,
            "gold_urls": gold_urls,
            "status": answer.status,
            "answer": answer.answer,
            "short_answer": short,
            "answerability": answer.answerability,
            "cited_urls": cited,
            "seconds": round(seconds, 3),
            "scores": score(question.type, question.answerable, question.answer, gold_urls, got),
        }

    def full(
        self, questions: list[NaturalQuestion], halves: Mapping[str, str], corpus: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        services = self.services_at(self.run.data_dir or self.run.out / "store")
        self.ingest(services, corpus, "full store: ingesting the corpus (unchanged articles are skipped)")
        ids = sorted(services.store.all_ids())
        if ids:  # a reused store's vectors serve the small stores too
            vectors, documents, _ = services.store.records(ids)
            self.embedder.remember(documents, vectors)
        rows = []
        with self.progress() as bar:
            task = bar.add_task(f"full store: asking ({self.writer.name})", total=len(questions))
            for question in questions:
                rows.append(self.ask_one(services, question, question.gold_urls, halves[question.id], "full"))
                bar.advance(task)
        services.close()
        return rows

    def small(
        self, questions: list[NaturalQuestion], halves: Mapping[str, str], corpus: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        by_url = {str(a.get("url")): a for a in corpus}
        pool = corpus
        if self.run.distractors_from_slice:
            wanted = {url for q in questions for url in q.gold_urls}
            pool = [a for a in corpus if a.get("url") in wanted]
        matcher = TopicMatcher(corpus)
        rows = []
        with self.progress() as bar:
            task = bar.add_task(
                f"small stores: ingesting and asking ({self.writer.name})", total=len(questions)
            )
            for question in questions:
                articles = small_store_articles(question, by_url, pool, matcher, self.run.seed)
                with tempfile.TemporaryDirectory(prefix="natural-small-", dir=self.run.out) as tmp:
                    services = self.services_at(Path(tmp))
                    self.ingest(services, articles)
                    row = self.ask_one(services, question, question.gold_urls, halves[question.id], "small")
                    rows.append({**row, "store_urls": [str(a.get("url")) for a in articles]})
                    services.close()
                bar.advance(task)
        return rows

    def seeded(self, questions: list[NaturalQuestion], halves: Mapping[str, str]) -> list[dict[str, Any]]:
        path = self.run.shared_data / "seed" / "kharkiv.txt"
        records = list(read_records(path))
        urls = [str(r.data.get("url", "")) for r in records if r.data]
        rows = []
        with tempfile.TemporaryDirectory(prefix="natural-seed-", dir=self.run.out) as tmp:
            services = self.services_at(Path(tmp))
            self.ingest(services, records)
            for question in questions:
                gold = urls if question.answerable else []
                rows.append(self.ask_one(services, question, gold, halves[question.id], "seed"))
            services.close()
        return rows


def run_natural(run: NaturalRun, console: Console | None = None) -> dict[str, Any]:
    unknown = sorted(set(run.settings) - set(SETTINGS))
    if unknown or run.half not in ("A", "B", "all"):
        raise ValueError(
            f"unknown setting {unknown[0]!r}" if unknown else f"half must be A, B or all, not {run.half!r}"
        )
    run.out.mkdir(parents=True, exist_ok=True)
    natural = load_questions(run.shared_data / "natural" / "questions.json")
    seed_questions = load_questions(run.seed_questions)
    halves = {**dev_halves(natural), **dev_halves(seed_questions)}
    if run.limit is not None:
        natural = stratified_slice(natural, run.limit)
    if run.half != "all":
        natural = [q for q in natural if halves[q.id] == run.half]
        seed_questions = [q for q in seed_questions if halves[q.id] == run.half]
    evaluation = NaturalEval(run, console)
    needs_corpus = {"full", "small"} & set(run.settings)
    corpus = load_corpus(run.shared_data / "multihop" / "corpus.json") if needs_corpus else []
    summary: dict[str, Any] = {
        "suite": "natural",
        "code_version": code_version(),
        "writer": evaluation.writer.name,
        "prompt_id": evaluation.writer.prompt_id,
        "half": run.half,
        "limit": run.limit,
        # not "seed": that key holds the seed setting's figures
        "small_store_seed": run.seed,
    }
    rows: list[dict[str, Any]] = []
    for setting in [s for s in SETTINGS if s in run.settings]:
        evaluation.console.print(f"natural questions, {setting} setting…")
        if setting == "full":
            found = evaluation.full(natural, halves, corpus)
        elif setting == "small":
            found = evaluation.small(natural, halves, corpus)
        else:
            found = evaluation.seeded(seed_questions, halves)
        summary[setting] = summarise(found)
        rows.extend(found)
    with (run.out / "questions.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (run.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
