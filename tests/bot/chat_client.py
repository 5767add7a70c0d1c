"""A small helper for speaking the customer protocol to a Starlette TestClient websocket."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

Frame = dict[str, Any]


def hello(ws, conversation_id=None, resume_token=None, last_seq=0, **extra) -> Frame:
    ws.send_json(
        {
            "type": "hello",
            "conversation_id": conversation_id,
            "resume_token": resume_token,
            "last_seq": last_seq,
            **extra,
        }
    )
    welcome = ws.receive_json()
    assert welcome["type"] == "welcome", welcome
    return welcome


def say(ws, text: str, client_msg_id: str | None = None) -> str:
    client_msg_id = client_msg_id or uuid.uuid4().hex
    ws.send_json({"type": "message", "client_msg_id": client_msg_id, "text": text})
    return client_msg_id


def until(ws, predicate: Callable[[Frame], bool], limit: int = 50) -> tuple[Frame, list[Frame]]:
    """Read frames until one matches; return it and every frame read before it."""
    seen: list[Frame] = []
    for _ in range(limit):
        frame = ws.receive_json()
        if predicate(frame):
            return frame, seen
        seen.append(frame)
    raise AssertionError(f"no matching frame among {seen}")


def is_type(kind: str, **fields: Any) -> Callable[[Frame], bool]:
    return lambda frame: frame.get("type") == kind and all(frame.get(k) == v for k, v in fields.items())


def store_of(client):
    """The conversation store behind a TestClient's app."""
    return client.app.state.services.store
