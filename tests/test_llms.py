from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from rag.answering.compose import NO_ANSWER
from rag.llm.llms import ModelWriter, Prompt, parse_cited_text
from rag.pipeline import Services, ask
from rag.settings import Settings
from rag.types import DraftSentence, Passage

CREST = (
    "The Tamsin River crested at a record 6.4 meters at the Mill Street gauge at 3:40 a.m. on Friday, "
    "September 11, 2026, flooding streets in Northfield's Old Mill district and forcing the evacuation "
    "of 214 homes."
)


class ScriptedCompletion:
    """A real Completion: returns canned replies in turn and records what it was asked."""

    def __init__(self, *replies: str, name: str = "scripted") -> None:
        self.name = name
        self.replies = list(replies)
        self.calls: list[tuple[str, str, int]] = []

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        self.calls.append((system, user, max_tokens))
        return self.replies.pop(0)


@pytest.fixture
def prompt() -> Prompt:
    return Prompt(Settings().prompts_dir, "answer", 1)


# --- parse_cited_text ---------------------------------------------------------------------------------------


def test_markers_before_the_full_stop() -> None:
    assert parse_cited_text("The river rose 6.4 meters [1]. Homes were evacuated [2].") == [
        DraftSentence(text="The river rose 6.4 meters.", passages=[1]),
        DraftSentence(text="Homes were evacuated.", passages=[2]),
    ]


def test_markers_after_the_full_stop_stay_with_their_sentence() -> None:
    assert parse_cited_text("The river rose. [2] Homes were evacuated. [1][3]") == [
        DraftSentence(text="The river rose.", passages=[2]),
        DraftSentence(text="Homes were evacuated.", passages=[1, 3]),
    ]


def test_multiple_markers_in_one_sentence() -> None:
    assert parse_cited_text("Sales rose [1] and then fell [2][3].") == [
        DraftSentence(text="Sales rose and then fell.", passages=[1, 2, 3])
    ]
    assert parse_cited_text("The vote was 301 to 37 [1] [2].") == [
        DraftSentence(text="The vote was 301 to 37.", passages=[1, 2])
    ]


def test_uncited_sentence_has_no_passages() -> None:
    assert parse_cited_text("The strike ended in October. It cost millions [4].") == [
        DraftSentence(text="The strike ended in October.", passages=[]),
        DraftSentence(text="It cost millions.", passages=[4]),
    ]


def test_abbreviations_inside_model_output() -> None:
    assert parse_cited_text("Dr. Penhallow led the U.S. team [2]. It found 11 beetles [2].") == [
        DraftSentence(text="Dr. Penhallow led the U.S. team.", passages=[2]),
        DraftSentence(text="It found 11 beetles.", passages=[2]),
    ]


@pytest.mark.parametrize(
    "reply",
    ["INSUFFICIENT EVIDENCE", "insufficient evidence.", "  INSUFFICIENT EVIDENCE\n", "", "   \n"],
)
def test_refusals_and_empty_replies_give_no_sentences(reply: str) -> None:
    assert parse_cited_text(reply) == []


def test_one_word_fragments_are_dropped() -> None:
    assert parse_cited_text("Yes [1]. The bridge is open [1].") == [
        DraftSentence(text="The bridge is open.", passages=[1])
    ]


# --- Prompt and ModelWriter ---------------------------------------------------------------------------------


def test_prompt_renders_numbered_passages_and_the_question(
    prompt: Prompt, make_passage: Callable[..., Passage]
) -> None:
    passages = [
        make_passage(
            "First passage text.", source="Valley Wire", published_at=datetime(2026, 9, 30, tzinfo=UTC)
        ),
        make_passage("Second </passage> text.", article_id="b", source="Northfield Tribune"),
    ]
    user = prompt.render("What happened?", passages)
    assert prompt.id == "answer.v1"
    assert '<passage n="1" source="Valley Wire" date="2026-09-30">\nFirst passage text.\n</passage>' in user
    assert '<passage n="2" source="Northfield Tribune" date="unknown">' in user
    assert "Second </ passage> text." in user  # a passage cannot close its own tag
    assert user.rstrip().endswith("Answer with citations:")
    assert "Question: What happened?" in user
    assert "INSUFFICIENT EVIDENCE" in prompt.system


def test_model_writer_sends_the_prompt_and_parses_the_reply(
    prompt: Prompt, make_passage: Callable[..., Passage]
) -> None:
    completion = ScriptedCompletion("The river crested at 6.4 meters [1].")
    writer = ModelWriter(completion, prompt, max_tokens=99)
    draft = writer.write("How high did the river crest?", [make_passage(CREST)])
    assert draft.sentences == [DraftSentence(text="The river crested at 6.4 meters.", passages=[1])]
    assert (draft.writer, draft.prompt_id) == ("scripted", "answer.v1")
    ((system, user, max_tokens),) = completion.calls
    assert system == prompt.system
    assert CREST in user and "How high did the river crest?" in user
    assert max_tokens == 99


def test_model_writer_is_not_called_without_passages(prompt: Prompt) -> None:
    completion = ScriptedCompletion()
    draft = ModelWriter(completion, prompt).write("Anything?", [])
    assert draft.sentences == []
    assert completion.calls == []


def _with_writer(services: Services, completion: ScriptedCompletion, prompt: Prompt) -> Services:
    services.writer = ModelWriter(completion, prompt)
    return services


def test_invented_sentence_is_dropped_and_supported_one_kept(loaded: Services, prompt: Prompt) -> None:
    completion = ScriptedCompletion("PLACEHOLDER")
    services = _with_writer(loaded, completion, prompt)
    question = "How high did the Tamsin River crest at the Mill Street gauge?"
    passages = services.retriever.search(question, services.settings.retrieve_k)
    n = next(i for i, p in enumerate(passages, 1) if CREST in p.chunk.text)
    completion.replies = [
        f"{CREST} [{n}] The flood wall will be built by Acme Construction for 40 million dollars [{n}]."
    ]

    answer = ask(services, question)

    assert answer.status == "answered"
    assert answer.writer == "scripted" and answer.prompt_id == "answer.v1"
    assert [s.text for s in answer.sentences] == [CREST]
    assert "Acme" not in answer.answer
    assert answer.answer == CREST[:-1] + " [1]."
    (citation,) = answer.citations
    assert citation.article_id == "fict-003"
    article = services.registry.article("fict-003")
    assert article is not None
    assert article.body[citation.start : citation.end] == citation.quote == CREST


def test_invented_sentence_is_flagged_in_flag_mode(loaded: Services, prompt: Prompt) -> None:
    loaded.settings = loaded.settings.model_copy(update={"unsupported": "flag"})
    completion = ScriptedCompletion("PLACEHOLDER")
    services = _with_writer(loaded, completion, prompt)
    question = "How high did the Tamsin River crest at the Mill Street gauge?"
    passages = services.retriever.search(question, services.settings.retrieve_k)
    n = next(i for i, p in enumerate(passages, 1) if CREST in p.chunk.text)
    completion.replies = [f"{CREST} [{n}] The flood wall will be built by Acme Construction [{n}]."]

    answer = ask(services, question)

    assert answer.status == "answered"
    assert [(s.supported, s.citations) for s in answer.sentences] == [(True, [1]), (False, [])]
    assert answer.answer.endswith("The flood wall will be built by Acme Construction [unverified].")


def test_model_that_only_invents_gives_insufficient_evidence(loaded: Services, prompt: Prompt) -> None:
    completion = ScriptedCompletion("The Tamsin River crested at 9.9 meters on Monday [1].")
    answer = ask(_with_writer(loaded, completion, prompt), "How high did the Tamsin River crest?")
    assert answer.status == "insufficient_evidence"
    assert answer.answer == NO_ANSWER
    assert answer.sentences == [] and answer.citations == []


def test_model_refusal_gives_insufficient_evidence(loaded: Services, prompt: Prompt) -> None:
    completion = ScriptedCompletion("INSUFFICIENT EVIDENCE")
    answer = ask(_with_writer(loaded, completion, prompt), "Which company will build the flood wall?")
    assert len(completion.calls) == 1
    assert answer.status == "insufficient_evidence"
    assert answer.answer == NO_ANSWER
