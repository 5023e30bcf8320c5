"""The local writer with the real Qwen2.5-Coder-1.5B model over the fictional sample news (marked ``llm``).

Skipped when llama-cpp-python or the assembled model is missing (`make install-model`); a model file that is in
place but fails its sha256 is an error, not a skip. Checks that short answers are right and cited, and that a
question the articles do not answer is refused.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.pipeline import Ingestor
from rag.answering.answer_first import AnswerFirstWriter
from rag.llm.local_models import QWEN_CODER_1_5B, ModelNotInstalled, verified_path
from rag.pipeline import Services, ask, build_services
from rag.settings import Settings

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def qwen(
    tmp_path_factory: pytest.TempPathFactory, sample_articles_data: list[dict[str, Any]]
) -> Iterator[Services]:
    probe = subprocess.run(
        [sys.executable, "-c", "import llama_cpp"], capture_output=True, timeout=60, check=False
    )
    if probe.returncode != 0:
        pytest.skip("llama-cpp-python is not installed: `make install-local`")
    settings = Settings(data_dir=tmp_path_factory.mktemp("qwen") / "data", embedder="hashing", writer="local")
    try:
        verified_path(
            QWEN_CODER_1_5B, settings.models_dir
        )  # a wrong file raises ModelHashMismatch: a failure
    except ModelNotInstalled as exc:
        pytest.skip(str(exc))
    services = build_services(settings)
    Ingestor(services).ingest(sample_articles_data)
    yield services
    services.close()


@pytest.mark.parametrize(
    ("question", "expected", "article"),
    [
        ("Who scored the winning goal in the 2026 Coastal Cup final?", "Kofi Lindqvist", "fict-008"),
        (
            "How many laboratory-confirmed flu cases did Northfield County record in September 2026?",
            "412",
            "fict-009",
        ),
        (
            "What is the new beetle species found in the Ellory Caves called?",
            "Lampronyx ellorensis",
            "fict-005",
        ),
    ],
)
def test_short_answer_is_right_and_cited(qwen: Services, question: str, expected: str, article: str) -> None:
    assert isinstance(qwen.writer, AnswerFirstWriter) and qwen.writer.prompt_id == "answer.v2"
    passages = qwen.retriever.search(question, qwen.settings.retrieve_k)
    draft = qwen.writer.write(question, passages)
    short = draft.short_answer
    assert short is not None, draft
    assert expected.lower() in short.text.lower()
    cited = passages[short.passage - 1]
    assert cited.chunk.article_id == article
    assert cited.chunk.text[short.start : short.end] == short.text
    assert draft.refusal is None and draft.answerability is not None and draft.answerability > 0.5


def test_question_the_articles_do_not_answer_is_refused(qwen: Services) -> None:
    question = "Which construction company will build the Northfield flood wall?"
    passages = qwen.retriever.search(question, qwen.settings.retrieve_k)
    draft = qwen.writer.write(question, passages)
    assert draft.short_answer is None and draft.refusal is not None, draft
    answer = ask(qwen, question)
    assert answer.status == "insufficient_evidence"
