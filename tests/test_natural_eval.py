"""`newsdesk eval natural` on hand-made questions over the fictional sample news (hashing embedder): scoring, dev
halves, slices, small-store articles, and one end-to-end run through the real ingest and ask."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from evals.natural import SEED_QUESTIONS, NaturalRun, run_natural
from evals.natural_data import (
    NaturalQuestion,
    TopicMatcher,
    dev_halves,
    load_questions,
    small_store_articles,
    stratified_slice,
)
from evals.natural_metrics import Outcome, aggregate, contains, normalise, score, token_f1
from evals.support import CachedEmbedder
from newsdesk.cli import app
from rag.retrieval.embedders import HashingEmbedder
from rag.settings import PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared" / "data"
URL = "https://harborledger.example.com/2026/09/03/ferry-workers-strike-vote"


def outcome(
    status: str = "answered",
    answer: str = "",
    short: str | None = None,
    cited: Sequence[str] = (),
    answerability: float | None = None,
) -> Outcome:
    return Outcome(status, answer, short, list(cited), answerability, 0.1)


def test_normalisation_unifies_typography_and_drops_articles() -> None:
    assert normalise("The “Fainga’anuku” – 10‑point\u200b lead!") == normalise("fainga'anuku - 10-point lead")
    assert contains("about €9.99pm a month", "€9.99pm")
    assert contains("Diamondbacks 9–1 Rangers", "Diamondbacks 9-1 Rangers")
    assert not contains("10 goals", "1")  # whole words only
    assert token_f1("James Ward-Prowse", "Ward-Prowse") == pytest.approx(0.8)


def test_a_short_answer_is_scored_and_a_missing_one_never_contains_the_gold() -> None:
    right = score(
        "factoid", True, "301 to 37", [URL], outcome(answer="It passed 301 to 37 [1].", short="301 to 37")
    )
    assert right["exact_match"] and right["short_contains_gold"] and right["answer_contains_gold"]
    none = score("factoid", True, "301 to 37", [URL], outcome(answer="It passed 301 to 37 [1].", cited=[URL]))
    assert none["short_contains_gold"] is False and none["token_f1"] == 0.0
    assert none["answer_contains_gold"] is True  # the comparison figure: the gold anywhere in the answer
    assert none["citation_precision"] == 1.0 and none["answer_words"] == 5
    assert score("why", True, "Because.", [URL], outcome(short="x"))["short_contains_gold"] is None


def test_yes_no_reads_the_short_answer_or_else_the_first_word() -> None:
    assert score("yesno", True, "no", [], outcome(answer="No, it did not [1].", short=None))["yesno_correct"]
    assert score("yesno", True, "yes", [], outcome(answer="No, but…", short="Yes"))["yesno_correct"]
    assert not score("yesno", True, "yes", [], outcome(answer="The council voted [1]."))["yesno_correct"]
    refused = outcome(status="insufficient_evidence", answer="No passage states it.")
    assert not score("yesno", True, "no", [], refused)["yesno_correct"]  # an abstention is not a "no"


def test_two_part_needs_a_citation_of_each_gold_article() -> None:
    gold = ["u1", "u2"]
    assert score("multi", True, "both", gold, outcome(cited=["u2", "u1", "u3"]))["two_part_correct"]
    assert not score("multi", True, "both", gold, outcome(cited=["u1", "u3"]))["two_part_correct"]


def test_aggregate_counts_abstention_false_abstention_and_answerability() -> None:
    def row(kind: str, answerable: bool, status: str, answerability: float) -> dict[str, Any]:
        got = outcome(
            status=status, answer="one two three [1]", cited=["u1", "u9"], answerability=answerability
        )
        scores = score(kind, answerable, "two" if answerable else None, ["u1"] if answerable else [], got)
        return {
            "type": kind,
            "answerable": answerable,
            "status": status,
            "half": "A",
            "answerability": answerability,
            "seconds": 0.2,
            "scores": scores,
        }

    rows = [
        row("factoid", True, "answered", 0.9),
        row("factoid", True, "insufficient_evidence", 0.3),
        row("unanswerable", False, "insufficient_evidence", 0.1),
        row("unanswerable", False, "answered", 0.4),
    ]
    figures = aggregate(rows)
    assert figures["abstention_rate"] == 0.5 and figures["false_abstention_rate"] == 0.5
    assert figures["citation_precision"] == 0.5  # one of the two cited articles is gold
    assert figures["answer_words"]["median"] == 3.0  # citation markers are not words
    assert figures["answerability_roc_auc"] == 0.75
    assert figures["answerability_scores"]["unanswerable"]["n"] == 2
    assert "yesno_accuracy" not in figures  # no yes/no question, no figure


def questions(per_type: dict[str, int]) -> list[NaturalQuestion]:
    made = []
    for kind, count in per_type.items():
        for i in range(count):
            answerable = kind != "unanswerable"
            made.append(
                NaturalQuestion(
                    id=f"{kind}-{i:02d}",
                    type=kind,
                    question=f"q {kind} {i}",  # type: ignore[arg-type]
                    answerable=answerable,
                    answer="x" if answerable else None,
                )
            )
    return made


def test_dev_halves_alternate_within_each_type() -> None:
    made = questions({"factoid": 7, "yesno": 4, "unanswerable": 3})
    halves = dev_halves(made)
    per_type = Counter((q.type, halves[q.id]) for q in made)
    assert per_type[("factoid", "A")] == 4 and per_type[("factoid", "B")] == 3
    assert per_type[("yesno", "A")] == per_type[("yesno", "B")] == 2
    assert halves["factoid-00"] == "A" and halves["factoid-01"] == "B"
    assert dev_halves(list(reversed(made))) == halves  # a rule on ids, not on file order


def test_the_stratified_slice_keeps_every_type_and_is_fixed() -> None:
    made = questions(
        {"factoid": 70, "why": 15, "yesno": 15, "outlet": 10, "multi": 10, "dated": 10, "unanswerable": 20}
    )
    picked = stratified_slice(made, 30)
    assert len(picked) == 30 and picked == stratified_slice(made, 30)
    counts = Counter(q.type for q in picked)
    assert counts["factoid"] == 14 and counts["unanswerable"] == 4 and min(counts.values()) >= 2


def test_small_stores_hold_the_gold_plus_four_or_the_topic_matches(
    sample_articles_data: list[dict[str, Any]],
) -> None:
    by_url = {a["url"]: a for a in sample_articles_data}
    matcher = TopicMatcher(sample_articles_data)
    gold = NaturalQuestion(
        id="g",
        type="factoid",
        question="By what vote?",
        answerable=True,
        answer="301 to 37",
        evidence=[{"url": URL, "quote": "301 to 37"}],
    )  # type: ignore[list-item]
    chosen = small_store_articles(gold, by_url, sample_articles_data, matcher, seed=0)
    assert len(chosen) == 5 and URL in {a["url"] for a in chosen}
    assert chosen == small_store_articles(gold, by_url, sample_articles_data, matcher, seed=0)
    assert chosen != small_store_articles(gold, by_url, sample_articles_data, matcher, seed=1)
    off = NaturalQuestion(
        id="u",
        type="unanswerable",
        question="Who designed the Lumentic Brightlane X2 battery?",
        answerable=False,
    )
    topical = small_store_articles(off, by_url, sample_articles_data, matcher, seed=0)
    assert len(topical) == 5
    assert {"fict-002", "fict-015", "fict-016"} <= {a["id"] for a in topical}  # the Lumentic battery stories


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return super().embed(texts)


def test_the_caching_embedder_embeds_each_text_once_and_takes_stored_vectors() -> None:
    inner = CountingEmbedder()
    cache = CachedEmbedder(inner)
    first = cache.embed(["a b", "c d", "a b"])
    assert inner.texts == 2
    assert np.array_equal(cache.embed(["c d", "a b"]), first[[1, 0]]) and inner.texts == 2
    cache.remember(["e f"], HashingEmbedder().embed(["e f"]))
    cache.embed(["e f"])
    assert inner.texts == 2


def write_shared(folder: Path, articles: list[dict[str, Any]]) -> Path:
    """A tiny ../shared/data: the fictional sample news as the corpus, hand-made questions, a fictional seed file."""
    (folder / "multihop").mkdir(parents=True)
    (folder / "multihop" / "corpus.json").write_text(json.dumps(articles), encoding="utf-8")
    (folder / "natural").mkdir()
    made = [
        {
            "id": "nat-1",
            "type": "factoid",
            "question": "By what vote did Port Halden ferry workers authorize a strike?",
            "as_of": None,
            "answerable": True,
            "answer": "301 to 37",
            "evidence": [{"url": URL, "quote": "301 to 37"}],
        },
        {
            "id": "nat-2",
            "type": "dated",
            "question": "How high did the Tamsin River crest last week?",
            "as_of": "2026-09-17",
            "answerable": True,
            "answer": "6.4 meters",
            "evidence": [{"url": articles[2]["url"], "quote": "6.4 meters"}],
        },
        {
            "id": "nat-3",
            "type": "unanswerable",
            "question": "Who designed the Lumentic Brightlane X2 battery?",
            "as_of": None,
            "answerable": False,
            "answer": None,
            "evidence": [],
        },
    ]
    (folder / "natural" / "questions.json").write_text(json.dumps(made), encoding="utf-8")
    (folder / "seed").mkdir()
    (folder / "seed" / "kharkiv.txt").write_text(
        "Harbor news\n\nFictional: Port Halden opens a new pier\n\nPort Halden opened its new pier on Friday. "
        "Mayor Ines Calloway cut the ribbon.\n",
        encoding="utf-8",
    )
    return folder


def test_a_run_writes_figures_per_setting_type_and_half_and_every_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_articles_data: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "hashing")
    shared = write_shared(tmp_path / "shared", sample_articles_data)
    seed_questions = tmp_path / "seed.json"
    seed_questions.write_text(
        json.dumps(
            [
                {
                    "id": "s1",
                    "type": "factoid",
                    "question": "Who cut the ribbon at the new pier?",
                    "answerable": True,
                    "answer": "Ines Calloway",
                },
                {
                    "id": "s2",
                    "type": "unanswerable",
                    "question": "How long is the new pier?",
                    "answerable": False,
                },
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    summary = run_natural(NaturalRun(out, shared, seed_questions=seed_questions))
    assert set(summary) >= {"full", "small", "seed", "writer", "code_version"}
    assert summary["full"]["n"] == summary["small"]["n"] == 3 and summary["seed"]["n"] == 2
    assert set(summary["small"]["per_type"]) == {"factoid", "dated", "unanswerable"}
    assert set(summary["full"]["by_half"]) == {"A"}  # one question per type: all in half A
    assert "answer_contains_gold" in summary["full"] and "latency_ms" in summary["seed"]
    rows = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    assert [r["setting"] for r in rows] == ["full"] * 3 + ["small"] * 3 + ["seed"] * 2
    assert all(
        {"answer", "short_answer", "status", "answerability", "cited_urls", "scores"} <= set(r) for r in rows
    )
    small_store = next(r for r in rows if r["setting"] == "small" and r["id"] == "nat-1")["store_urls"]
    assert len(small_store) == 5 and URL in small_store
    assert rows[-2]["gold_urls"] and rows[-2]["gold_urls"][0].endswith("kharkiv.txt")
    assert json.loads((out / "summary.json").read_text())["seed"]["n"] == 2
    assert (out / "store" / "articles.sqlite3").exists()  # the full store is kept for the next run


def test_the_cli_runs_one_setting_and_prints_only_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_articles_data: list[dict[str, Any]]
) -> None:
    # The small stores' seed once shared the summary key "seed" with the seed setting's figures: a run without
    # the seed setting crashed printing them.
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "hashing")
    shared = write_shared(tmp_path / "shared", sample_articles_data)
    out = tmp_path / "out"
    argv = ["eval", "natural", "--out", str(out), "--shared-data", str(shared), "--setting", "small"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output[result.output.index("\n{") : result.output.rindex("}") + 1])
    assert set(printed) == {"small"} and printed["small"]["n"] == 3
    summary = json.loads((out / "summary.json").read_text())
    assert "seed" not in summary and summary["small_store_seed"] == 0


def test_the_cli_rejects_an_unknown_half_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "natural", "--out", str(tmp_path), "--half", "C"])
    assert result.exit_code == 2
    assert "unknown --half 'C'" in result.output and "Traceback" not in result.output


def test_our_seed_questions_are_valid_and_their_short_answers_are_in_the_seed_article() -> None:
    seed = load_questions(SEED_QUESTIONS)
    answerable = [q for q in seed if q.answerable]
    assert len(answerable) >= 10 and len(seed) - len(answerable) >= 5
    assert {q.type for q in seed} == {"factoid", "why", "yesno", "unanswerable"}
    article = SHARED / "seed" / "kharkiv.txt"
    if not article.exists():
        pytest.skip("needs ../shared/data/seed/kharkiv.txt")
    text = normalise(article.read_text(encoding="utf-8"))
    for question in answerable:
        if question.type == "factoid":
            assert question.answer and f" {normalise(question.answer)} " in f" {text} ", question.id
