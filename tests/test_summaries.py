"""Summaries (rag/summaries/summarize.py): briefs, digests and timelines on the fast fixtures (HashingEmbedder, real
stores)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from ingest.pipeline import Ingestor
from rag.llm.llms import ModelWriter, Prompt, WriterUnavailable
from rag.pipeline import Services
from rag.summaries.summarize import NO_SUMMARY, SummaryRequest, UnknownArticle, summarize
from rag.summaries.summary_writers import stated_date
from rag.tokens import count_tokens
from rag.types import Summary

PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.S)


class QuotingModel:
    """A scripted model: it answers with the first sentence of the first two passages it is shown, cited."""

    name = "scripted"

    def __init__(self) -> None:
        self.prompts: list[tuple[str, str]] = []

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        self.prompts.append((system, user))
        found = PASSAGE.findall(user)[:2]
        return " ".join(f"{text.split('. ')[0].rstrip('.')}. [{n}]" for n, text in found)


class InventingModel:
    name = "inventing"

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        return "The mayor of Port Halden resigned in disgrace after a secret offshore deal [1]."


def brief(services: Services, article_id: str, **kwargs: object) -> Summary:
    return summarize(services, SummaryRequest(kind="brief", article_ids=[article_id], **kwargs))  # type: ignore[arg-type]


def assert_citations_verbatim(services: Services, summary: Summary) -> None:
    for citation in summary.citations:
        article = services.registry.article(citation.article_id)
        assert article is not None
        assert article.body[citation.start : citation.end] == citation.quote


def test_brief_is_verbatim_central_sentences_in_article_order(loaded: Services) -> None:
    summary = brief(loaded, "fict-007")
    article = loaded.registry.article("fict-007")
    assert article is not None
    assert (summary.kind, summary.status, summary.writer, summary.articles) == (
        "brief",
        "answered",
        "extractive",
        ["fict-007"],
    )
    assert 1 <= len(summary.sentences) <= 3
    starts = [article.body.index(s.text) for s in summary.sentences]
    assert starts == sorted(starts)
    assert all(s.supported and s.citations and s.date is None for s in summary.sentences)
    assert not any(s.text.startswith("[Fictional") for s in summary.sentences)  # the notice is not news
    assert_citations_verbatim(loaded, summary)
    assert [c.quote for c in summary.citations] == [s.text for s in summary.sentences]
    assert summary.text.count("[") == len(summary.sentences)
    assert set(summary.timings) >= {"select_ms", "write_ms", "verify_ms", "total_ms"}


def test_brief_respects_max_sentences_and_lists_syndicated_copies(loaded: Services) -> None:
    summary = brief(loaded, "fict-015", max_sentences=1)
    assert len(summary.sentences) == 1
    assert all(c.copies == ["fict-016"] for c in summary.citations)


def test_digest_balances_outlets_and_counts_syndicated_copies_once(loaded: Services) -> None:
    # fict-016 is a syndicated copy of fict-015; fict-002 and fict-010 are both Metro Tech Daily.
    request = SummaryRequest(
        kind="digest", article_ids=["fict-015", "fict-016", "fict-002", "fict-010"], max_sentences=4
    )
    summary = summarize(loaded, request)
    assert summary.status == "answered"
    assert summary.articles == ["fict-015", "fict-002", "fict-010"]
    assert "fict-016" not in {c.article_id for c in summary.citations}
    per_source = Counter(summary.citations[s.citations[0] - 1].source for s in summary.sentences)
    assert per_source == {"Valley Wire": 2, "Metro Tech Daily": 2}
    assert_citations_verbatim(loaded, summary)


def test_digest_by_topic_and_by_period(loaded: Services) -> None:
    by_topic = summarize(loaded, SummaryRequest(kind="digest", topic="Lumentic Brightlane battery recall"))
    assert by_topic.status == "answered"
    assert "fict-015" in by_topic.articles and "fict-016" not in by_topic.articles
    by_source = summarize(
        loaded,
        SummaryRequest(kind="digest", filters={"sources": ["Valley Wire"]}),  # type: ignore[arg-type]
    )
    assert {c.source for c in by_source.citations} == {"Valley Wire"}


def test_a_topic_is_picked_out_by_its_distinctive_words_not_a_shared_place_name(loaded: Services) -> None:
    # "Port Halden" appears across many stories and a sports headline says "strikes": the ferry strike's own
    # words must decide which articles belong to it.
    timeline = summarize(loaded, SummaryRequest(kind="timeline", topic="Port Halden ferry strike"))
    assert {"fict-001", "fict-007", "fict-012"} <= set(timeline.articles)
    assert not {"fict-004", "fict-008"} & set(timeline.articles)  # the Mariners' Coastal Cup run


def test_an_article_about_something_else_gives_only_its_sentences_on_the_topic(loaded: Services) -> None:
    # The Lantern Festival report (fict-013) mentions the strike; its festival news is not a strike event.
    for kind in ("timeline", "digest"):
        summary = summarize(loaded, SummaryRequest(kind=kind, topic="Port Halden ferry strike"))  # type: ignore[arg-type]
        festival = [c.quote for c in summary.citations if c.article_id == "fict-013"]
        assert festival, kind  # it does add what it says about the strike
        assert all("ferry" in quote.lower() or "strike" in quote.lower() for quote in festival), festival
        if kind == "timeline":  # the strike's own reports still give their events, whatever their words
            assert any("ratify" in c.quote for c in summary.citations if c.article_id == "fict-012")


def test_timeline_is_dated_and_ordered(loaded: Services) -> None:
    request = SummaryRequest(kind="timeline", article_ids=["fict-012", "fict-001", "fict-007"])
    summary = summarize(loaded, request)
    assert summary.status == "answered"
    dates = [s.date for s in summary.sentences]
    assert all(d is not None for d in dates)
    assert dates == sorted(dates)  # type: ignore[type-var]
    assert datetime(2026, 9, 2, tzinfo=UTC) in dates  # the strike vote, stated in fict-001
    lines = summary.text.splitlines()
    assert len(lines) == len(summary.sentences)
    assert all(re.match(r"\d{4}-\d{2}-\d{2}: ", line) for line in lines)
    assert_citations_verbatim(loaded, summary)


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("Workers voted on Wednesday, September 2, 2026 to strike.", "2026-09-03", "2026-09-02"),
        ("Talks resume on January 3, the union said.", "2026-12-28", "2027-01-03"),
        ("The report is dated 2026-10-05 in the filing.", "2026-11-01", "2026-10-05"),
        ("The clinic opened yesterday in the old mill.", "2026-10-09", "2026-10-08"),
        ("The walkout will begin on Monday at dawn.", "2026-10-02", "2026-10-05"),
        ("Members voted on Monday to accept the deal.", "2026-10-02", "2026-09-28"),
        ("They struck every Monday and Friday since September 14.", "2026-10-02", "2026-09-14"),
        ("The river rose fast through the valley.", "2026-09-12", None),
    ],
)
def test_stated_dates_resolve_against_publication(text: str, published: str, expected: str | None) -> None:
    found = stated_date(text, datetime.fromisoformat(published).replace(tzinfo=UTC))
    assert (found.date().isoformat() if found else None) == expected


def test_unknown_article_and_bad_requests_are_errors(loaded: Services) -> None:
    with pytest.raises(UnknownArticle, match="no article with id 'nope'"):
        brief(loaded, "nope")
    with pytest.raises(ValueError, match="exactly one article"):
        summarize(loaded, SummaryRequest(kind="brief", article_ids=["fict-001", "fict-002"]))
    with pytest.raises(ValueError, match="needs article ids, a topic or filters"):
        summarize(loaded, SummaryRequest(kind="timeline"))


def test_nothing_supported_is_insufficient_evidence(loaded: Services) -> None:
    summary = summarize(loaded, SummaryRequest(kind="digest", topic="quantum chromodynamics lattice"))
    assert (summary.status, summary.text, summary.sentences, summary.articles) == (
        "insufficient_evidence",
        NO_SUMMARY,
        [],
        [],
    )
    Ingestor(loaded).ingest([{"id": "tiny", "title": "Tiny", "body": "Short line.\n\nAnother one."}])
    assert brief(loaded, "tiny").status == "insufficient_evidence"


def test_model_brief_is_verified_and_inventions_are_dropped(loaded: Services) -> None:
    loaded.writer = ModelWriter(InventingModel(), Prompt(loaded.settings.prompts_dir, "answer", 1))
    summary = brief(loaded, "fict-003")
    assert (summary.status, summary.writer, summary.prompt_id) == (
        "insufficient_evidence",
        "inventing",
        "summary.v1",
    )


def test_model_brief_of_a_long_article_is_map_reduced_within_the_context(loaded: Services) -> None:
    paragraphs = [
        f"Paragraph {i} reports that the harbor committee reviewed dredging plan number {i} for berth {i + 40}. "
        f"Engineers said plan {i} would move {i * 1000} cubic meters of silt before the winter storms."
        for i in range(1, 41)
    ]
    Ingestor(loaded).ingest([{"id": "long-1", "title": "Dredging plans", "body": "\n\n".join(paragraphs)}])
    chunks = loaded.registry.chunks_of("long-1")
    assert len(chunks) >= 6
    model = QuotingModel()
    context = 1000
    loaded.settings = loaded.settings.model_copy(update={"local_ctx": context})
    loaded.writer = ModelWriter(model, Prompt(loaded.settings.prompts_dir, "answer", 1), max_tokens=128)
    summary = brief(loaded, "long-1")
    map_calls = [u for _, u in model.prompts if "Engineers said" in u]  # chunk text, not partials
    assert len(map_calls) >= 2 and len(model.prompts) > len(map_calls)  # several map prompts, then a reduce
    assert all(count_tokens(system) + count_tokens(user) + 128 <= context for system, user in model.prompts)
    assert all("Task: Summarise the article" in user for _, user in model.prompts)
    assert summary.status == "answered" and summary.prompt_id == "summary.v1"
    assert all(s.supported for s in summary.sentences)
    assert_citations_verbatim(loaded, summary)

    loaded.settings = loaded.settings.model_copy(update={"local_ctx": 300})
    with pytest.raises(WriterUnavailable, match="NEWSDESK_LOCAL_CTX"):
        brief(loaded, "long-1")


HEADLINE = "Northfield Council Approves Flood Barrier Plan"
REPEATED_HEADLINE_BODY = (
    f"{HEADLINE}\n\n"
    "The Northfield council approved a flood barrier plan by seven votes to two on Tuesday night [fictional]. "
    "The barrier will run for two kilometres along the Tamsin River and cost 14 million crowns. "
    "Work is to start in March and last eighteen months, the council's engineer said.\n\n"
    "Two councillors voted against the plan because of its cost to the town's budget. "
    "Residents of the river quarter welcomed the vote after three floods in five years."
)


def test_a_headline_repeated_in_the_body_is_never_a_summary_sentence(services: Services) -> None:
    report = Ingestor(services).ingest(
        [{"id": "flood-1", "title": HEADLINE, "body": REPEATED_HEADLINE_BODY, "published_at": "2026-10-07"}]
    )
    assert report.added == 1
    for kind in ("brief", "timeline"):
        summary = summarize(services, SummaryRequest(kind=kind, article_ids=["flood-1"]))  # type: ignore[arg-type]
        assert summary.status == "answered" and len(summary.sentences) >= 2
        assert all(HEADLINE not in s.text for s in summary.sentences)
        assert all(c.start > len(HEADLINE) for c in summary.citations)  # nothing cites the headline line


class HeadlineModel:
    """A scripted model that opens its summary with the article's headline, cited."""

    name = "headline-quoting"

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        return (
            f"{HEADLINE} [1]. The Northfield council approved a flood barrier plan by seven votes to two "
            "on Tuesday night [1]."
        )


def test_a_model_summary_sentence_that_restates_the_headline_is_dropped(services: Services) -> None:
    Ingestor(services).ingest([{"id": "flood-1", "title": HEADLINE, "body": REPEATED_HEADLINE_BODY}])
    services.writer = ModelWriter(HeadlineModel(), Prompt(services.settings.prompts_dir, "answer", 1))
    summary = brief(services, "flood-1")
    assert [s.text for s in summary.sentences] == [
        "The Northfield council approved a flood barrier plan by seven votes to two on Tuesday night."
    ]
