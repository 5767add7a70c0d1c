"""The customer websocket protocol's frames (see docs/protocol.md), parsed and checked with pydantic."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)


class ProtocolError(ValueError):
    """A frame the server refuses; `code` goes into the error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def frame(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": str(self)}


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


Short = Annotated[str, StringConstraints(max_length=500)]


class Customer(_Frame):
    """Identity and page details the host page may pass along."""

    name: Short | None = None
    email: Short | None = None
    page_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    attributes: dict[Annotated[str, StringConstraints(max_length=100)], Short | int | float | bool | None] = Field(
        default_factory=dict, max_length=50
    )


class Hello(_Frame):
    type: Literal["hello"]
    conversation_id: Annotated[str, StringConstraints(max_length=64)] | None
    resume_token: Annotated[str, StringConstraints(max_length=128)] | None
    last_seq: int = Field(ge=0)
    customer: Customer | None = None


class Message(_Frame):
    type: Literal["message"]
    client_msg_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    text: str


class Typing(_Frame):
    type: Literal["typing"]


ClientFrame = Annotated[Hello | Message | Typing, Field(discriminator="type")]
_client_frame: TypeAdapter[Hello | Message | Typing] = TypeAdapter(ClientFrame)
KNOWN_TYPES = ("hello", "message", "typing")


def parse_frame(raw: str, max_text_chars: int) -> Hello | Message | Typing:
    """Parse one client frame or raise ProtocolError with a code the client can act on."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "A frame must be a JSON object.")
    kind = data.get("type")
    if kind not in KNOWN_TYPES:
        raise ProtocolError("unknown_type", f"Unknown frame type {kind!r}; expected one of {', '.join(KNOWN_TYPES)}.")
    try:
        frame = _client_frame.validate_python(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in issue['loc'][1:]) or 'frame'}: {issue['msg']}" for issue in error.errors()
        )
        raise ProtocolError("invalid_frame", f"Invalid {kind} frame: {problems}.") from None
    if isinstance(frame, Message):
        if not frame.text.strip():
            raise ProtocolError("empty_text", "The message text is empty.")
        if len(frame.text) > max_text_chars:
            raise ProtocolError("text_too_long", f"The message is longer than {max_text_chars} characters.")
    return frame
