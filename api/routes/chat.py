"""POST /v1/chat (a turn of a conversation, whole or streamed), GET / DELETE /v1/conversations/{id}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import MetricsDep, ServicesDep, SettingsDep
from api.errors import responses
from api.limits import check_question
from api.schemas import ChatRequest, ConversationOut
from api.streaming import EVENT_STREAM_DOC, event_stream
from rag.answering.chat import chat_events, complete_chat, start_chat
from rag.storage.conversations import ConversationNotFound, Conversations
from rag.types import ChatReply, Filters

router = APIRouter(prefix="/v1", tags=["chat"])


def get_conversations(request: Request) -> Conversations:
    conversations: Conversations = request.app.state.conversations
    return conversations


ConversationsDep = Annotated[Conversations, Depends(get_conversations)]
ConversationId = Annotated[str, Path(min_length=1, max_length=100)]


@router.post(
    "/chat",
    response_model=ChatReply,
    responses={200: EVENT_STREAM_DOC, **responses(400, 401, 404, 413, 422, 429, 500, 503)},
)
async def chat_turn(
    body: ChatRequest,
    services: ServicesDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    conversations: ConversationsDep,
) -> ChatReply | EventSourceResponse:
    check_question(settings, body.message, "message")
    filters = Filters(**body.filters.model_dump()) if body.filters else None
    try:
        # Begun before any streaming, so an unknown conversation is a plain 404.
        start = await run_in_threadpool(
            start_chat, services, conversations, body.message, body.conversation_id
        )
        if body.stream:

            def observe(final: dict[str, Any]) -> None:
                metrics.observe_ask(final["answer"]["timings"])

            events = chat_events(services, conversations, start, filters, body.k, body.as_of)
            return event_stream(events, observe)
        reply = await run_in_threadpool(
            complete_chat, services, conversations, start, filters, body.k, body.as_of
        )
    except ConversationNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    metrics.observe_ask(reply.answer.timings)
    return reply


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationOut,
    responses=responses(401, 404, 422, 429, 500),
)
def get_conversation(conversation_id: ConversationId, conversations: ConversationsDep) -> ConversationOut:
    try:
        conversation = conversations.get(conversation_id)
    except ConversationNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    return ConversationOut.model_validate(conversation.model_dump())


@router.delete(
    "/conversations/{conversation_id}", status_code=204, responses=responses(401, 404, 422, 429, 500)
)
def delete_conversation(conversation_id: ConversationId, conversations: ConversationsDep) -> Response:
    if not conversations.delete(conversation_id):
        raise HTTPException(404, f"no conversation with id {conversation_id!r} (unknown, deleted or expired)")
    return Response(status_code=204)
