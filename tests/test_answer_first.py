"""The answer-first reply parser and Draft builder (rag/answering/answer_first.py), sentence selection
(rag/answering/context_select.py): hand-written model replies, well-formed and not, no model needed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from rag.answering.answer_first import REFUSAL, AnswerFirstWriter, build_draft, locate, parse_reply
from rag.answering.checked_model import CheckedModelWriter
from rag.answering.compose import ExtractiveWriter
from rag.answering.context_select import render_excerpts, select_sentences
from rag.answering.reader import Reader
from rag.llm.llms import Prompt
from rag.settings import Settings
from rag.types import DraftSentence, DraftShortAnswer, Passage

CREST = (
    "Flood crews worked through the night. The Tamsin River crested at a record 6.4 meters at the Mill Street "
    "gauge on Friday. Officials said 214 homes were evacuated in the Old Mill district."
)
CUP = "Harbor City won the Coastal Cup final 2-1. Mara Velez scored the winning goal in the 88th minute."


class ScriptedCompletion:
    """A real Completion: returns canned replies in turn (whole or in pieces) and records what it was asked."""

    def __init__(self, *replies: str) -> None:
        self.name = "scripted"
        self.replies = list(replies)
        self.calls: list[tuple[str, str, int]] = []

    def complete(self, system: str, user: str, max_tokens: int) -> str:
        self.calls.append((system, user, max_tokens))
        return self.replies.pop(0)

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        self.calls.append((system, user, max_tokens))
        reply = self.replies.pop(0)
        yield from (reply[i : i + 7] for i in range(0, len(reply), 7))


@pytest.fixture
def passages(make_passage: Callable[..., Passage]) -> list[Passage]:
    return [
        make_passage(CUP, article_id="cup", source="Coastal Sports"),
        make_passage(CREST, article_id="flood", source="Valley Wire", start=120),
    ]


# --- parse_reply ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "kind", "answer", "cites"),
    [
        (
            "ANSWER: 6.4 meters [2]\nEVIDENCE: The river crested at 6.4 meters [2].",
            "phrase",
            "6.4 meters",
            [2],
        ),
        ("answer: Mara Velez [1]\nevidence: Velez scored [1].", "phrase", "Mara Velez", [1]),
        ('**ANSWER:** "Mara Velez" [1]\n**EVIDENCE:** Velez scored late [1].', "phrase", "Mara Velez", [1]),
        ("ANSWER: “6.4 meters”. [2]\nEVIDENCE: It crested [2].", "phrase", "6.4 meters", [2]),
        ("ANSWER: Mara Velez\nEVIDENCE: Velez scored in the 88th minute [1].", "phrase", "Mara Velez", []),
        ("Short answer: 214 homes [2]", "phrase", "214 homes", [2]),
        ("ANSWER: Yes [2]\nEVIDENCE: The river crested at a record 6.4 meters [2].", "yes", "Yes", [2]),
        ("ANSWER: yes, it did [2]\nEVIDENCE: It crested at a record [2].", "yes", "Yes", [2]),
        ("ANSWER: No. [1]\nEVIDENCE: Harbor City won [1].", "no", "No", [1]),
        ("ANSWER: NOT FOUND\nEVIDENCE: none", "not_found", "", []),
        ("ANSWER: Not found.", "not_found", "", []),
        ("ANSWER: INSUFFICIENT EVIDENCE", "not_found", "", []),
        ("ANSWER: The passages do not state his height.", "not_found", "", []),
        ("ANSWER:\nEVIDENCE: none", "not_found", "", []),
        ("NOT FOUND", "not_found", "", []),
        ("The river crested at 6.4 meters [2].", "none", "", []),
        ("Kofi Lindqvist [1]", "phrase", "Kofi Lindqvist", [1]),  # the label left out
        ("ANSWER: *Lampronyx ellorensis* [3]", "phrase", "Lampronyx ellorensis", [3]),
        ("6.4 meters. [2]", "phrase", "6.4 meters", [2]),
        ("No [2]\nThe bridge is open [2].", "no", "No", [2]),
        ("", "none", "", []),
        ("ANSWER: Nobel Prize [1]", "phrase", "Nobel Prize", [1]),  # "No..." inside a word is not "No"
        ("ANSWER: Noon [1]", "phrase", "Noon", [1]),
    ],
)
def test_parse_reply(reply: str, kind: str, answer: str, cites: list[int]) -> None:
    parsed = parse_reply(reply)
    assert (parsed.kind, parsed.answer, parsed.answer_cites) == (kind, answer, cites)


def test_evidence_sentences_keep_their_citations() -> None:
    parsed = parse_reply(
        "ANSWER: 214 homes [2]\nEVIDENCE: Officials said 214 homes were evacuated [2]. The river crested. [2][1]"
    )
    assert parsed.evidence == [
        DraftSentence(text="Officials said 214 homes were evacuated.", passages=[2]),
        DraftSentence(text="The river crested.", passages=[2, 1]),
    ]


def test_evidence_on_the_lines_after_an_unlabelled_answer_line() -> None:
    parsed = parse_reply("ANSWER: Mara Velez [1]\nVelez scored the winning goal [1].")
    assert parsed.evidence == [DraftSentence(text="Velez scored the winning goal.", passages=[1])]


# --- locate ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("6.4 meters", "crested at 6.4 meters on", "6.4 meters"),
        ("MARA VELEZ", "goal by Mara Velez.", "Mara Velez"),
        ("the “Old Mill” district", 'in the "Old Mill"  district', 'the "Old Mill"  district'),
        ("2-1", "won 2–1 on Sunday", "2–1"),
        ("6.4", "it rose 16.4 then 6.4 meters", "6.4"),  # the word-boundary match, not the one inside 16.4
        ("16.4 meters", "it rose 6.4 meters", None),
        ("4200 homes", "some 4,200 homes", "4,200 homes"),
        ("  ", "anything", None),
    ],
)
def test_locate(phrase: str, text: str, found: str | None) -> None:
    span = locate(phrase, text)
    assert (text[span[0] : span[1]] if span else None) == found


# --- build_draft ----------------------------------------------------------------------------------------------


def test_phrase_is_placed_in_the_passage_it_cites(passages: list[Passage]) -> None:
    draft = build_draft(
        parse_reply("ANSWER: 6.4 meters [2]\nEVIDENCE: The river crested at a record 6.4 meters [2]."),
        passages,
        "w",
        "answer.v2",
    )
    short = draft.short_answer
    assert short is not None and short.passage == 2
    assert passages[1].chunk.text[short.start : short.end] == short.text == "6.4 meters"
    assert draft.answerability == 1.0 and draft.refusal is None
    assert draft.sentences == [DraftSentence(text="The river crested at a record 6.4 meters.", passages=[2])]


def test_phrase_cited_to_the_wrong_passage_is_taken_from_where_it_stands(passages: list[Passage]) -> None:
    draft = build_draft(parse_reply("ANSWER: 6.4 meters [1]"), passages, "w", None)
    short = draft.short_answer
    assert short is not None and short.passage == 2
    assert passages[1].chunk.text[short.start : short.end] == "6.4 meters"


def test_bare_number_not_in_the_cited_passage_gives_no_short_answer(passages: list[Passage]) -> None:
    draft = build_draft(parse_reply("ANSWER: 214 [1]\nEVIDENCE: It rose [2]."), passages, "w", None)
    assert draft.short_answer is None
    assert draft.sentences == [DraftSentence(text="It rose.", passages=[2])]


def test_a_phrase_that_runs_on_past_the_passage_keeps_its_verbatim_start(passages: list[Passage]) -> None:
    draft = build_draft(parse_reply("ANSWER: 214 homes in total [2]"), passages, "w", None)
    assert draft.short_answer is not None and draft.short_answer.text == "214 homes"
    # Less than half the words left is not the model's answer any more.
    assert (
        build_draft(parse_reply("ANSWER: 214 people in four towns [2]"), passages, "w", None).short_answer
        is None
    )


def test_invented_phrase_gives_no_short_answer(passages: list[Passage]) -> None:
    draft = build_draft(parse_reply("ANSWER: 7 meters [2]"), passages, "w", None)
    assert draft.short_answer is None and draft.sentences == []


def test_uncited_phrase_is_found_in_any_passage_and_its_sentence_becomes_evidence(
    passages: list[Passage],
) -> None:
    draft = build_draft(parse_reply("ANSWER: mara velez"), passages, "w", None)
    assert draft.short_answer == DraftShortAnswer(text="Mara Velez", passage=1, start=43, end=53)
    assert draft.sentences == [
        DraftSentence(text="Mara Velez scored the winning goal in the 88th minute.", passages=[1])
    ]


def test_an_uncited_bare_number_is_not_searched_for(passages: list[Passage]) -> None:
    assert build_draft(parse_reply("ANSWER: 214"), passages, "w", None).short_answer is None
    assert build_draft(parse_reply("ANSWER: 214 [2]"), passages, "w", None).short_answer is not None


def test_yes_no_cites_the_deciding_sentence(passages: list[Passage]) -> None:
    draft = build_draft(
        parse_reply("ANSWER: Yes [2]\nEVIDENCE: The Tamsin River crested at a record 6.4 meters [2]."),
        passages,
        "w",
        None,
    )
    short = draft.short_answer
    assert short is not None and (short.text, short.passage) == ("Yes", 2)
    assert (
        passages[1].chunk.text[short.start : short.end] == "The Tamsin River crested at a record 6.4 meters"
    )


def test_yes_no_paraphrase_points_at_the_most_overlapping_sentence(passages: list[Passage]) -> None:
    draft = build_draft(
        parse_reply("ANSWER: No [2]\nEVIDENCE: Officials evacuated 214 homes in Old Mill [2]."),
        passages,
        "w",
        None,
    )
    short = draft.short_answer
    assert short is not None and short.text == "No"
    assert passages[1].chunk.text[short.start : short.end].startswith("Officials said 214 homes")


def test_yes_no_without_evidence_takes_the_cited_passages_most_relevant_sentence(
    passages: list[Passage],
) -> None:
    question = "Were homes evacuated in the Old Mill district?"
    draft = build_draft(parse_reply("ANSWER: Yes [2]"), passages, "w", None, question)
    short = draft.short_answer
    assert short is not None and (short.text, short.passage) == ("Yes", 2)
    deciding = "Officials said 214 homes were evacuated in the Old Mill district."
    assert passages[1].chunk.text[short.start : short.end] == deciding
    assert draft.sentences == [DraftSentence(text=deciding, passages=[2])]


def test_yes_no_without_a_citation_has_no_short_answer(passages: list[Passage]) -> None:
    draft = build_draft(parse_reply("ANSWER: Yes"), passages, "w", None, "Is it open?")
    assert draft.short_answer is None and draft.sentences == [] and draft.answerability == 1.0


def test_cut_off_evidence_is_dropped_and_replaced(passages: list[Passage]) -> None:
    draft = build_draft(
        parse_reply("ANSWER: 214 homes [2]\nEVIDENCE: Officials said 214 homes were"), passages, "w", None
    )
    assert draft.sentences == [
        DraftSentence(text="Officials said 214 homes were evacuated in the Old Mill district.", passages=[2])
    ]


def test_answerability_from_the_not_found_probability(passages: list[Passage]) -> None:
    answered = build_draft(parse_reply("ANSWER: 214 homes [2]"), passages, "w", None, "", 0.25)
    assert answered.answerability == 0.75 and answered.short_answer is not None
    refused = build_draft(parse_reply("ANSWER: NOT FOUND"), passages, "w", None, "", 0.9)
    assert refused.refusal == REFUSAL and refused.answerability == pytest.approx(0.1)


def test_not_found_is_a_refusal_with_zero_answerability(passages: list[Passage]) -> None:
    draft = build_draft(parse_reply("ANSWER: NOT FOUND\nEVIDENCE: none"), passages, "w", None)
    assert (draft.sentences, draft.short_answer, draft.answerability) == ([], None, 0.0)
    assert draft.refusal == REFUSAL


def test_citations_of_passages_that_do_not_exist_are_dropped(passages: list[Passage]) -> None:
    draft = build_draft(
        parse_reply("ANSWER: Mara Velez [7]\nEVIDENCE: Velez scored [7]."), passages, "w", None
    )
    assert draft.sentences == [DraftSentence(text="Velez scored.", passages=[])]
    assert draft.short_answer is not None and draft.short_answer.passage == 1


def test_uncited_evidence_is_not_kept(passages: list[Passage]) -> None:
    draft = build_draft(
        parse_reply("ANSWER: Mara Velez [1]\nEVIDENCE: Velez scored late."), passages, "w", None
    )
    assert draft.sentences == [
        DraftSentence(text="Mara Velez scored the winning goal in the 88th minute.", passages=[1])
    ]


def test_unlabelled_reply_is_read_as_cited_sentences_without_a_judgement(passages: list[Passage]) -> None:
    draft = build_draft(parse_reply("Mara Velez scored the winner [1]."), passages, "w", None)
    assert draft.short_answer is None and draft.answerability is None
    assert draft.sentences == [DraftSentence(text="Mara Velez scored the winner.", passages=[1])]


# --- the writer, whole and streamed ---------------------------------------------------------------------------


@pytest.fixture
def prompt() -> Prompt:
    return Prompt(Settings().prompts_dir, "answer", 2)


def test_writer_sends_only_the_relevant_sentences(prompt: Prompt, passages: list[Passage]) -> None:
    completion = ScriptedCompletion(
        "ANSWER: Mara Velez [1]\nEVIDENCE: Mara Velez scored the winning goal [1]."
    )
    writer = AnswerFirstWriter(completion, prompt, max_sentences=2)
    draft = writer.write("Who scored the winning goal in the Coastal Cup final?", passages)
    ((system, user, _),) = completion.calls
    assert system == prompt.system and "NOT FOUND" in system
    assert '<passage n="1" source="Coastal Sports" date="unknown">' in user
    assert "Mara Velez scored the winning goal" in user and "Flood crews" not in user
    assert user.rstrip().endswith("Question: Who scored the winning goal in the Coastal Cup final?")
    assert draft.prompt_id == "answer.v2"
    assert draft.short_answer == DraftShortAnswer(text="Mara Velez", passage=1, start=43, end=53)


class ScoredScriptedCompletion(ScriptedCompletion):
    """A real ScoredCompletion: a canned reply and a canned NOT FOUND probability."""

    def __init__(self, reply: str, not_found: float | None) -> None:
        super().__init__(reply)
        self.not_found = not_found
        self.scored: list[tuple[str, tuple[str, ...]]] = []

    def complete_scored(
        self, system: str, user: str, max_tokens: int, after: str, words: Sequence[str]
    ) -> tuple[str, float | None]:
        self.scored.append((after, tuple(words)))
        return self.complete(system, user, max_tokens), self.not_found


def test_writer_reads_the_not_found_probability_when_the_completion_gives_it(
    prompt: Prompt, passages: list[Passage]
) -> None:
    completion = ScoredScriptedCompletion("ANSWER: NOT FOUND", 0.8)
    draft = AnswerFirstWriter(completion, prompt).write("Which company built the wall?", passages)
    assert completion.scored == [("ANSWER:", ("NOT", "Not found"))]
    assert draft.refusal == REFUSAL and draft.answerability == pytest.approx(0.2)
    assert completion.calls[0][2] == 48  # one answer line's budget, not the summaries' max_tokens


def test_streamed_text_drafts_like_the_whole_reply(prompt: Prompt, passages: list[Passage]) -> None:
    reply = "ANSWER: 214 homes [2]\nEVIDENCE: Officials said 214 homes were evacuated [2]."
    writer = AnswerFirstWriter(ScriptedCompletion(reply, reply), prompt)
    question = "How many homes were evacuated?"
    pieces = list(writer.stream(question, passages))
    assert len(pieces) > 1
    assert writer.draft("".join(pieces), passages) == writer.write(question, passages)


# --- select_sentences -----------------------------------------------------------------------------------------


def test_selection_keeps_passage_numbers_and_offsets(passages: list[Passage]) -> None:
    excerpts = select_sentences("How many homes were evacuated in the Old Mill district?", passages, 2)
    assert [e.passage for e in excerpts] == [2, 2]
    assert any("214 homes" in e.text for e in excerpts) and not any("Flood crews" in e.text for e in excerpts)
    for excerpt in excerpts:
        assert passages[excerpt.passage - 1].chunk.text[excerpt.start : excerpt.end] == excerpt.text
    rendered = render_excerpts(excerpts, passages)
    assert rendered.startswith('<passage n="2" source="Valley Wire"')


def test_selection_skips_repeated_sentences(make_passage: Callable[..., Passage]) -> None:
    copies = [make_passage(CUP, article_id="a"), make_passage(CUP, article_id="b")]
    excerpts = select_sentences("Who scored the winning goal?", copies, 8)
    assert [e.passage for e in excerpts] == [1, 1]


def _checked(completion: ScriptedCompletion, prompt: Prompt, threshold: float = 0.5) -> CheckedModelWriter:
    reader = Reader(ExtractiveWriter(None), 0.4)
    return CheckedModelWriter(completion, prompt, reader, threshold)


def test_checked_writer_shows_the_models_placed_answer_judged_by_both(
    prompt: Prompt, passages: list[Passage]
) -> None:
    completion = ScoredScriptedCompletion("ANSWER: Mara Velez [1]", 0.1)
    draft = _checked(completion, prompt).write(
        "Who scored the winning goal in the Coastal Cup final?", passages
    )
    assert draft.short_answer is not None and draft.short_answer.text == "Mara Velez"
    reader_score = (
        Reader(ExtractiveWriter(None), 0.4)
        .write("Who scored the winning goal in the Coastal Cup final?", passages)
        .answerability
    )
    assert reader_score is not None
    assert draft.answerability == pytest.approx((0.9 + reader_score) / 2)


def test_checked_writer_refuses_when_model_and_reader_together_fall_short(
    prompt: Prompt, passages: list[Passage]
) -> None:
    completion = ScoredScriptedCompletion("ANSWER: NOT FOUND", 0.95)
    question = "Who scored the winning goal in the Coastal Cup final?"
    draft = _checked(completion, prompt, threshold=0.6).write(question, passages)
    assert draft.sentences == [] and draft.answerability is not None and draft.answerability < 0.6
    assert draft.refusal


def test_checked_writer_leaves_why_and_yes_no_questions_to_the_reader(
    prompt: Prompt, passages: list[Passage]
) -> None:
    completion = ScriptedCompletion()  # any model call would fail: no reply is scripted
    writer = _checked(completion, prompt)
    for question in ("Why did Harbor City win the final?", "Did Harbor City win the Coastal Cup final?"):
        draft = writer.write(question, passages)
        assert draft.writer == "extractive" and draft.sentences
        assert list(writer.stream(question, passages)) == []
    assert completion.calls == []
