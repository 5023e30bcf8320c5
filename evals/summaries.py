"""`newsdesk eval summaries`: briefs of the CNN/DM articles that freelance writers summarised (Zhang et al. 2024).

The articles of ``writer_summaries.json`` (``article_id, article, summary``; several writers' summaries per article)
are ingested into a temporary store and each gets a ``brief``. Reported:

- ROUGE-L F1 against the writers' summaries (longest common subsequence of tokens; rouge-score's default tokenisation:
  lower-cased ``[a-z0-9]+`` words, no stemming): the mean over articles of the mean over their writers
  (``rouge_l_f1``) and of the best writer (``rouge_l_f1_best``); the lead-3 baseline (the article's first three
  sentences) scored the same way for scale;
- the share of shown summary sentences the verifier supports, and of those flagged (``NEWSDESK_UNSUPPORTED=flag``);
  the target is that every shown sentence is one or the other;
- the share of citations whose quote is exactly ``body[start:end]``, and per-brief latency (p50 / p95) and ingest time.
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from ingest.pipeline import Ingestor
from rag.pipeline import build_services
from rag.settings import Settings
from rag.summaries.summarize import SummaryRequest, summarize
from rag.text import split_sentences

SOURCE = "CNN/DailyMail"


def tokens(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l_f1(candidate: str, reference: str) -> float:
    c, r = tokens(candidate), tokens(reference)
    lcs = lcs_length(c, r)
    if not lcs:
        return 0.0
    precision, recall = lcs / len(c), lcs / len(r)
    return 2 * precision * recall / (precision + recall)


def load_writer_summaries(path: Path) -> dict[str, tuple[str, list[str]]]:
    """article id → (article text, the writers' summaries), in file order."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    for item in json.loads(path.read_text(encoding="utf-8")):
        article_id = str(item["article_id"])
        grouped.setdefault(article_id, (str(item["article"]), []))[1].append(str(item["summary"]))
    return grouped


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0


def run_summaries_eval(
    data: Path,
    out: Path,
    *,
    writer: str = "extractive",
    limit: int | None = None,
    embedder: str = "minilm",
    console: Console | None = None,
) -> dict[str, Any]:
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    grouped = list(load_writer_summaries(data).items())[:limit]
    records = [
        {"id": f"cnndm-{aid}", "title": f"{SOURCE} article {aid[:8]}", "body": text, "source": SOURCE}
        for aid, (text, _) in grouped
    ]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-summaries-") as tmp:
        settings = Settings(data_dir=Path(tmp), writer=writer, embedder=embedder)
        services = build_services(settings)
        started = time.perf_counter()
        report = Ingestor(services).ingest(records)
        ingest_s = round(time.perf_counter() - started, 2)
        console.print(f"ingested: {report.summary()}")
        for (aid, (_, references)), record in zip(grouped, records, strict=True):
            article = services.registry.article(str(record["id"]))
            if article is None:
                continue
            started = time.perf_counter()
            brief = summarize(services, SummaryRequest(kind="brief", article_ids=[article.id]))
            seconds = time.perf_counter() - started
            text = " ".join(s.text for s in brief.sentences)
            lead = " ".join(s.text for s in split_sentences(article.body)[:3])
            scores = [rouge_l_f1(text, ref) for ref in references]
            lead_scores = [rouge_l_f1(lead, ref) for ref in references]
            rows.append(
                {
                    "article_id": aid,
                    "status": brief.status,
                    "summary": text,
                    "references": references,
                    "rouge_l_f1": round(statistics.fmean(scores), 4),
                    "rouge_l_f1_best": round(max(scores), 4),
                    "lead3_rouge_l_f1": round(statistics.fmean(lead_scores), 4),
                    "lead3_rouge_l_f1_best": round(max(lead_scores), 4),
                    "sentences": [s.model_dump(mode="json") for s in brief.sentences],
                    "citations_verbatim": [article.body[c.start : c.end] == c.quote for c in brief.citations],
                    "words": len(text.split()),
                    "ms": round(seconds * 1000, 1),
                }
            )
        services.close()
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    sentences = [s for row in rows for s in row["sentences"]]
    verbatim = [ok for row in rows for ok in row["citations_verbatim"]]
    latencies = [row["ms"] for row in rows]
    summary: dict[str, Any] = {
        "suite": "summaries",
        "data": f"{data.name}: writers' summaries of CNN/DailyMail articles (Zhang et al., TACL 2024)",
        "writer": writer,
        "embedder": embedder,
        "articles": len(rows),
        "references": sum(len(row["references"]) for row in rows),
        "rouge_l_f1": _mean([row["rouge_l_f1"] for row in rows]),
        "rouge_l_f1_best": _mean([row["rouge_l_f1_best"] for row in rows]),
        "lead3_rouge_l_f1": _mean([row["lead3_rouge_l_f1"] for row in rows]),
        "lead3_rouge_l_f1_best": _mean([row["lead3_rouge_l_f1_best"] for row in rows]),
        "insufficient_evidence": sum(row["status"] != "answered" for row in rows),
        "sentences_shown": len(sentences),
        "mean_words": _mean([float(row["words"]) for row in rows]),
        "supported_share": _mean([float(s["supported"]) for s in sentences]),
        "flagged_share": _mean([float(not s["supported"]) for s in sentences]),
        "citations_verbatim_share": _mean([float(ok) for ok in verbatim]),
        "ingest_seconds": ingest_s,
        "brief_ms_p50": _percentile(latencies, 0.5),
        "brief_ms_p95": _percentile(latencies, 0.95),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
