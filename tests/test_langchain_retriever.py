"""NewsdeskRetriever inside a real LangChain runnable chain (langchain_core's own FakeListChatModel as the model),
over HTTP against a real server and in process over the real MiniLM store: each document's metadata span is the
article text at those offsets, filters hold, and the prompt the model saw carries the passages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel, RunnablePassthrough

from newsdesk.langchain_retriever import NewsdeskRetriever, citations, format_passages
from rag.pipeline import Services

pytestmark = pytest.mark.integration

QUESTION = "How high did the Tamsin River crest?"
REPLY = "The Tamsin River crested at a record 6.4 meters [1]."
METADATA = {
    "article_id",
    "chunk_id",
    "title",
    "source",
    "url",
    "published_at",
    "start",
    "end",
    "score",
    "copies",
}


class PromptRecorder(BaseCallbackHandler):
    """Keeps the messages each chat model call was given."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.prompts += ["\n".join(str(m.content) for m in batch) for batch in messages]


def answer_chain(retriever: NewsdeskRetriever) -> Runnable[str, dict[str, Any]]:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer only from these passages and cite them as [n].\n\n{context}"),
            ("human", "{question}"),
        ]
    )
    model = FakeListChatModel(responses=[REPLY])
    write = (
        {"context": itemgetter("docs") | RunnableLambda(format_passages), "question": itemgetter("question")}
        | prompt
        | model
        | StrOutputParser()
    )
    return RunnableParallel(docs=retriever, question=RunnablePassthrough()).assign(answer=write)


def assert_spans(docs: list[Document], body_of: Callable[[str], str]) -> None:
    assert docs
    for doc in docs:
        assert set(doc.metadata) == METADATA
        body = body_of(doc.metadata["article_id"])
        assert body[doc.metadata["start"] : doc.metadata["end"]] == doc.page_content
        assert doc.id == doc.metadata["chunk_id"]


def run_chain(retriever: NewsdeskRetriever, body_of: Callable[[str], str]) -> list[Document]:
    recorder = PromptRecorder()
    result = answer_chain(retriever).invoke(QUESTION, config={"callbacks": [recorder]})
    docs: list[Document] = result["docs"]
    assert result["answer"] == REPLY and result["question"] == QUESTION
    assert docs[0].metadata["article_id"] == "fict-003" and "6.4" in docs[0].page_content
    assert_spans(docs, body_of)
    assert len(recorder.prompts) == 1
    assert f"[1] {docs[0].metadata['source']}, 2026-09-12: {docs[0].page_content}" in recorder.prompts[0]
    lines = citations(docs)
    assert lines[0].startswith("[1] Northfield Tribune: Tamsin River crests") and "fict-003" in lines[0]
    return docs


@pytest.mark.server
def test_over_http_in_a_chain(news_server: str, news_key: str) -> None:
    def body_of(article_id: str) -> str:
        reply = httpx.get(
            f"{news_server}/v1/articles/{article_id}", headers={"Authorization": f"Bearer {news_key}"}
        )
        return str(reply.json()["body"])

    retriever = NewsdeskRetriever(base_url=news_server, api_key=news_key, k=4)
    try:
        docs = run_chain(retriever, body_of)
        assert len(docs) <= 4
        valley = retriever.model_copy(update={"sources": ["Valley Wire"]}).invoke("flood wall")
        assert valley and {d.metadata["source"] for d in valley} == {"Valley Wire"}
        assert_spans(valley, body_of)
        late = NewsdeskRetriever(base_url=news_server, api_key=news_key, since=datetime(2026, 11, 1))
        recent = asyncio.run(late.ainvoke("battery recall"))
        assert recent and all(d.metadata["published_at"] >= "2026-11-01" for d in recent)
        assert {d.metadata["article_id"] for d in recent} & {"fict-015", "fict-016"}
    finally:
        retriever.close()


def test_in_process_in_a_chain(real_services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    def body_of(article_id: str) -> str:
        article = real_services.registry.article(article_id)
        assert article is not None
        return article.body

    shared = NewsdeskRetriever.from_services(real_services, k=4)
    docs = run_chain(shared, body_of)
    shared.close()  # not its services: they were given to it
    assert real_services.registry.article("fict-003") is not None

    # From the data dir alone, with the settings of the environment (the embedder that built the store).
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "minilm")
    own = NewsdeskRetriever(data_dir=real_services.settings.data_dir, k=4)
    try:
        assert [d.metadata["chunk_id"] for d in own.invoke(QUESTION)] == [
            d.metadata["chunk_id"] for d in docs
        ]
        until = own.model_copy(update={"until": datetime(2026, 9, 30), "sources": ["Valley Wire"]})
        early = asyncio.run(until.ainvoke("beetle caves"))
        assert early and all(d.metadata["source"] == "Valley Wire" for d in early)
        assert all(d.metadata["published_at"] <= "2026-09-30" for d in early)
        assert_spans(early, body_of)
    finally:
        own.close()


ANSWER_METADATA = (METADATA - {"score"}) | {"citation", "answer", "status", "short_answer", "answerability"}


def assert_cited_answer(docs: list[Document], body_of: Callable[[str], str]) -> None:
    assert docs and [d.metadata["citation"] for d in docs] == list(range(1, len(docs) + 1))
    for doc in docs:
        assert set(doc.metadata) == ANSWER_METADATA
        assert (
            body_of(doc.metadata["article_id"])[doc.metadata["start"] : doc.metadata["end"]]
            == doc.page_content
        )
        assert doc.metadata["status"] == "answered" and "6.4" in doc.metadata["answer"]
    short = docs[0].metadata["short_answer"]
    if short is not None:  # the reader's direct answer, a verbatim span of the citation it names
        cited = docs[short["citation"] - 1]
        assert body_of(cited.metadata["article_id"])[short["start"] : short["end"]]


@pytest.mark.server
def test_cited_answer_documents_over_http(news_server: str, news_key: str) -> None:
    def body_of(article_id: str) -> str:
        reply = httpx.get(
            f"{news_server}/v1/articles/{article_id}", headers={"Authorization": f"Bearer {news_key}"}
        )
        return str(reply.json()["body"])

    retriever = NewsdeskRetriever(base_url=news_server, api_key=news_key, cited_answer=True)
    try:
        docs = retriever.invoke(QUESTION)
        assert_cited_answer(docs, body_of)
        assert [d.page_content for d in asyncio.run(retriever.ainvoke(QUESTION))] == [
            d.page_content for d in docs
        ]
        assert retriever.invoke("What is a good recipe for sourdough bread?") == []  # insufficient_evidence
    finally:
        retriever.close()


def test_cited_answer_documents_in_process(real_services: Services) -> None:
    def body_of(article_id: str) -> str:
        article = real_services.registry.article(article_id)
        assert article is not None
        return article.body

    retriever = NewsdeskRetriever.from_services(real_services, cited_answer=True)
    assert_cited_answer(retriever.invoke(QUESTION), body_of)
