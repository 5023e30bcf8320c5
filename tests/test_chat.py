"""Chat: follow-up rewriting, the bounded conversation store, chat over the sample news, the chat API and CLI."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from newsdesk.cli import app as cli_app
from rag.answering.chat import chat
from rag.answering.compose import NO_ANSWER
from rag.answering.followup import (
    PreviousTurn,
    answer_terms,
    is_follow_up,
    retrieval_queries,
    standalone_query,
)
from rag.pipeline import Services, ask, search_many
from rag.settings import Settings
from rag.storage.conversations import ChatTurn, ConversationNotFound, Conversations, ConversationStore
from rag.storage.conversations_db import DatabaseConversationStore
from rag.storage.db import Database, open_database
from rag.types import Answer, ChatReply

COUNCIL = "What did the Northfield council approve in its 7-2 vote?"
COST = "How much will it cost?"


# --- follow-up rewriting


@pytest.mark.parametrize(
    "message",
    [
        "How much will it cost?",
        "and what did Valley Wire say?",
        "What about the semifinal?",
        "how about Greywick United?",
        "When did he join the Mariners?",
        "Who voted against that?",
        "Were those homes rebuilt?",
        "Why?",
        "How many units?",
    ],
)
def test_follow_ups_are_detected(message: str) -> None:
    assert is_follow_up(message)


@pytest.mark.parametrize(
    "message",
    [
        "How high did the Tamsin River crest in Northfield?",
        "Who won the Coastal Cup final against Ashbury Rovers?",
        "Why did Lumentic recall Brightlane X2 batteries?",
        "",
    ],
)
def test_standalone_questions_are_not_follow_ups(message: str) -> None:
    assert not is_follow_up(message)


def test_answer_terms_are_names_without_calendar_words_or_markers() -> None:
    answer = (
        "The Northfield City Council voted on Tuesday, September 29 to build a flood wall [1]. "
        "Mayor Gordon Pell backed the wall [2][unverified]. The Northfield City Council meets again in May [1]."
    )
    terms = answer_terms(answer)
    assert terms[0] == "Northfield City Council"  # most frequent first
    assert "Mayor Gordon Pell" in terms
    assert not {"Tuesday", "September", "May", "The"} & set(terms)
    assert not any("[" in term or "unverified" in term for term in terms)


def test_standalone_query_carries_the_previous_query_and_answer_names() -> None:
    previous = PreviousTurn(
        query=COUNCIL, answer="The Northfield City Council approved an $18.6 million wall [1]."
    )
    query = standalone_query(COST, previous)
    assert query.startswith(COST)
    assert COUNCIL in query and "Northfield City Council" in query


def test_naming_another_outlet_drops_the_previous_outlet() -> None:
    previous = PreviousTurn(query="What did Valley Wire report about the recall?", answer="")
    query = standalone_query(
        "and what did the Northfield Tribune say?", previous, ["Valley Wire", "Northfield Tribune"]
    )
    assert "Northfield Tribune" in query and "Valley Wire" not in query
    assert "recall" in query


def test_retrieval_queries_always_search_the_users_own_words() -> None:
    previous = PreviousTurn(query=COUNCIL, answer="", answered=False)
    assert retrieval_queries(COST, None) == [COST]
    assert retrieval_queries("  How high did the Tamsin River crest in Northfield?  ", previous) == [
        "How high did the Tamsin River crest in Northfield?"
    ]
    rewritten, own = retrieval_queries(COST, previous)
    assert own == COST and COUNCIL in rewritten


def test_chained_follow_ups_keep_the_query_bounded() -> None:
    previous = PreviousTurn(query=COUNCIL, answer="The Northfield City Council approved it [1].")
    for message in ["How much will it cost?", "Who voted against it?", "When will it be built?"] * 5:
        previous = PreviousTurn(query=retrieval_queries(message, previous)[0], answer=previous.answer)
    assert len(previous.query.split()) <= 45


# --- the conversation store


def _answer(question: str) -> Answer:
    return Answer(
        question=question,
        answer=NO_ANSWER,
        status="insufficient_evidence",
        sentences=[],
        citations=[],
        writer="t",
    )


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Conversations]]:
    """Build a conversation store of each kind in turn: in memory (the default), in SQLite, in PostgreSQL."""
    opened: list[Database] = []

    def make(**bounds: Any) -> Conversations:
        if request.param == "memory":
            return ConversationStore(**bounds)
        url = request.getfixturevalue("pg_server").new_database() if request.param == "postgres" else None
        db = open_database(url, tmp_path / f"chat{len(opened)}.sqlite3")
        opened.append(db)
        return DatabaseConversationStore(db, **bounds)

    yield make
    for db in opened:
        db.close()


def _record(store: Conversations, conversation_id: str, message: str) -> int:
    turn, _ = store.start_turn(conversation_id)
    store.record(
        conversation_id,
        ChatTurn(turn=turn, message=message, retrieval_queries=[message], answer=_answer(message)),
    )
    return turn


def test_ids_are_unguessable_and_unknown_ids_are_not_found(make_store: Callable[..., Conversations]) -> None:
    store = make_store()
    ids = {store.create() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) >= 20 for i in ids)
    with pytest.raises(ConversationNotFound):
        store.get("no-such-id")
    with pytest.raises(ConversationNotFound):
        store.start_turn("no-such-id")
    assert store.delete("no-such-id") is False


def test_store_keeps_only_the_last_turns_and_numbers_them_on(make_store: Callable[..., Conversations]) -> None:
    store = make_store(max_turns=3)
    conversation_id = store.create()
    turns = [_record(store, conversation_id, f"message {i}") for i in range(1, 6)]
    assert turns == [1, 2, 3, 4, 5]
    kept = store.get(conversation_id).turns
    assert [t.turn for t in kept] == [3, 4, 5]
    assert [t.message for t in kept] == ["message 3", "message 4", "message 5"]


def test_store_drops_the_least_recently_used_conversation_beyond_its_maximum(
    make_store: Callable[..., Conversations],
) -> None:
    store = make_store(max_conversations=2)
    first, second = store.create(), store.create()
    store.get(first)  # first is now the most recently used
    third = store.create()
    assert len(store) == 2
    store.get(first)
    store.get(third)
    with pytest.raises(ConversationNotFound):
        store.get(second)


def test_idle_conversations_expire(make_store: Callable[..., Conversations]) -> None:
    now = [1000.0]
    store = make_store(idle_expiry_s=60, clock=lambda: now[0])
    idle, active = store.create(), store.create()
    now[0] += 40
    _record(store, active, "still here")
    now[0] += 30  # idle: 70 s unused; active: 30 s
    with pytest.raises(ConversationNotFound):
        store.get(idle)
    assert store.get(active).turns[0].message == "still here"
    assert len(store) == 1


def test_concurrent_turns_get_distinct_numbers(make_store: Callable[..., Conversations]) -> None:
    store = make_store(max_turns=1000)
    conversation_id = store.create()
    numbers: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for i in range(50):
            turn = _record(store, conversation_id, f"m{i}")
            with lock:
                numbers.append(turn)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 201))
    assert [t.turn for t in store.get(conversation_id).turns] == list(range(1, 201))


def test_store_bounds_must_be_positive(make_store: Callable[..., Conversations]) -> None:
    with pytest.raises(ValueError):
        make_store(max_conversations=0)


# --- chat over the sample news


def test_search_many_fuses_and_shows_each_chunk_once(loaded: Services) -> None:
    passages = search_many(loaded, [COUNCIL, "flood wall cost", COUNCIL], 5)
    assert 0 < len(passages) <= 5
    assert len({p.chunk.id for p in passages}) == len(passages)
    assert passages[0].chunk.article_id == "fict-006"
    with pytest.raises(ValueError):
        search_many(loaded, ["  "], 5)


def test_chat_keeps_context_across_turns(loaded: Services) -> None:
    conversations = ConversationStore()
    first = chat(loaded, conversations, COUNCIL)
    assert first.turn == 1 and first.retrieval_queries == [COUNCIL]
    assert first.answer.status == "answered"

    follow_up = chat(loaded, conversations, COST, first.conversation_id)
    assert follow_up.conversation_id == first.conversation_id and follow_up.turn == 2
    rewritten, own = follow_up.retrieval_queries
    assert own == COST and COUNCIL in rewritten
    assert follow_up.answer.question == COST
    assert follow_up.answer.status == "answered"
    assert "fict-006" in {c.article_id for c in follow_up.answer.citations}  # the flood wall article
    assert "18.6 million" in follow_up.answer.answer
    # Without the conversation, the same words do not find the flood wall.
    assert "18.6 million" not in ask(loaded, COST).answer

    history = conversations.get(first.conversation_id).turns
    assert [(t.turn, t.message) for t in history] == [(1, COUNCIL), (2, COST)]
    assert history[1].answer == follow_up.answer


def test_chat_unknown_conversation_and_empty_message(loaded: Services) -> None:
    conversations = ConversationStore()
    with pytest.raises(ConversationNotFound):
        chat(loaded, conversations, COST, "nope")
    with pytest.raises(ValueError):
        chat(loaded, conversations, "   ")


# --- the API


@pytest.fixture
def client(tmp_path: Path, sample_articles: list[dict[str, Any]]) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path / "data", embedder="hashing", max_question_chars=200))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        assert test_client.post("/v1/ingest", json={"articles": sample_articles}).status_code == 200
        yield test_client


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_chat_api_turns_history_and_delete(client: TestClient) -> None:
    first = client.post("/v1/chat", json={"message": COUNCIL})
    assert first.status_code == 200, first.text
    reply = ChatReply.model_validate(first.json())
    second = client.post("/v1/chat", json={"message": COST, "conversation_id": reply.conversation_id})
    assert second.status_code == 200, second.text
    assert second.json()["turn"] == 2 and len(second.json()["retrieval_queries"]) == 2

    conversation = client.get(f"/v1/conversations/{reply.conversation_id}")
    assert conversation.status_code == 200
    body = conversation.json()
    assert body["conversation_id"] == reply.conversation_id
    assert [(t["turn"], t["message"]) for t in body["turns"]] == [(1, COUNCIL), (2, COST)]
    assert set(body["turns"][0]) == {"turn", "message", "answer"}
    assert body["turns"][1]["answer"] == second.json()["answer"]

    deleted = client.delete(f"/v1/conversations/{reply.conversation_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(client.get(f"/v1/conversations/{reply.conversation_id}"), 404, "not_found")
    assert_error(client.delete(f"/v1/conversations/{reply.conversation_id}"), 404, "not_found")
    assert_error(
        client.post("/v1/chat", json={"message": COST, "conversation_id": reply.conversation_id}),
        404,
        "not_found",
    )


def test_chat_api_rejects_bad_input(client: TestClient) -> None:
    assert_error(client.post("/v1/chat", json={"message": "   "}), 422, "invalid_request")
    assert_error(client.post("/v1/chat", json={"message": "a\x00b"}), 422, "invalid_request")
    assert_error(client.post("/v1/chat", json={"message": "x" * 201}), 422, "invalid_request")
    assert_error(client.post("/v1/chat", json={"message": COST, "surprise": 1}), 422, "invalid_request")
    assert_error(client.post("/v1/chat", json={"message": COST, "k": 0}), 422, "invalid_request")
    assert_error(client.get("/v1/conversations/" + "x" * 101), 422, "invalid_request")


# --- the CLI


def test_chat_cli_reads_stdin_and_starts_over_on_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "hashing")
    runner = CliRunner()
    samples = str(Path(__file__).resolve().parent.parent / "samples" / "news")
    assert runner.invoke(cli_app, ["ingest", samples]).exit_code == 0

    result = runner.invoke(
        cli_app, ["chat"], input=f"{COUNCIL}\n{COST}\n/new\n{COST}\n/bogus\n/quit\nnever asked\n"
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "turn 1" in out and "turn 2" in out
    assert (
        "18.6 million" in out and "Northfield council approves" in out
    )  # the answer and its citation's title
    assert "(new conversation)" in out and "unknown command /bogus" in out
    after_new = out.split("(new conversation)")[1]
    assert "turn 1" in after_new  # a fresh conversation: COST alone has no context
    assert "never asked" not in out


def test_chat_cli_before_ingest_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "hashing")
    result = CliRunner().invoke(cli_app, ["chat"], input=f"{COST}\n")
    assert result.exit_code == 2
