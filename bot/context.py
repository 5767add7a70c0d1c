"""What the customer socket is given: the conversations and the limits of the [server] section, as one typed object."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from bot.config import ServerSettings
from bot.conversations import Conversations


@dataclass(frozen=True, slots=True)
class ChatContext:
    conversations: Conversations
    server: ServerSettings


def chat(connection: HTTPConnection) -> ChatContext:
    """The customer socket's services (set as `app.state.chat` by the app factory)."""
    context = getattr(connection.app.state, "chat", None)
    if not isinstance(context, ChatContext):
        raise RuntimeError("the chat's services are not set up: build the app with escalator.app.create_app")
    return context
