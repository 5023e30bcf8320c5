"""A typed Python client for the newsdesk HTTP API: ``Newsdesk`` (sync) and ``AsyncNewsdesk``.

Needs only httpx and pydantic (``pip install 'newsdesk[client]'`` names them): it imports the API's own reply models
(``api.schemas*``, ``rag.types``), which are plain pydantic, and nothing of the server (no Chroma, onnxruntime or
FastAPI). ``tests/test_client_light.py`` checks that.

    from newsdesk.client import Newsdesk
    with Newsdesk("http://127.0.0.1:8000", api_key=None) as news:
        answer = news.ask("How high did the Tamsin River crest?")
"""

from newsdesk.client._calls import ClientOptions, Scope
from newsdesk.client.async_client import AsyncConversation, AsyncNewsdesk
from newsdesk.client.errors import (
    BadRequest,
    ConnectionFailed,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NewsdeskError,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    WriterUnavailable,
)
from newsdesk.client.events import (
    AskEvent,
    AskFinalEvent,
    ChatEvent,
    ChatFinalEvent,
    CitationEvent,
    DeltaEvent,
    MetaEvent,
    SentenceEvent,
)
from newsdesk.client.sync import Conversation, Newsdesk

__all__ = [
    "AskEvent",
    "AskFinalEvent",
    "AsyncConversation",
    "AsyncNewsdesk",
    "BadRequest",
    "ChatEvent",
    "ChatFinalEvent",
    "CitationEvent",
    "ClientOptions",
    "ConnectionFailed",
    "Conversation",
    "DeltaEvent",
    "InternalError",
    "InvalidRequest",
    "MetaEvent",
    "MethodNotAllowed",
    "Newsdesk",
    "NewsdeskError",
    "NotFound",
    "RateLimited",
    "Scope",
    "SentenceEvent",
    "TooLarge",
    "Unauthorized",
    "WriterUnavailable",
]
