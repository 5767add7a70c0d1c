"""The customer websocket protocol's frames (see docs/protocol.md), parsed and checked with pydantic."""

from __future__ import annotations

import json
import re
import reprlib
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


# The largest sequence number a JavaScript client holds exactly (Number.MAX_SAFE_INTEGER), far below SQLite's
# 2**63 - 1: a hello claiming more is refused before the number reaches SQL.
MAX_SEQ = 2**53 - 1
MAX_CLIENT_MSG_ID = 128  # characters
# Frames nest three levels at most (hello > customer > attributes); deeper ones are refused before json.loads,
# whose recursion would otherwise meet the interpreter's limit at about a thousand levels.
MAX_DEPTH = 32
# The most bytes one character can take in a JSON text frame: an astral code point written as a
# \uXXXX\uXXXX surrogate pair (raw UTF-8 takes 4, a BMP escape 6).
MAX_BYTES_PER_CHAR = 12
# Slack for whitespace a client's serialiser may put between the envelope's tokens (a pretty printer's newlines
# and indentation).
ENVELOPE_WHITESPACE = 64


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
    last_seq: int = Field(ge=0, le=MAX_SEQ)
    customer: Customer | None = None


class Message(_Frame):
    type: Literal["message"]
    client_msg_id: Annotated[str, StringConstraints(min_length=1, max_length=MAX_CLIENT_MSG_ID)]
    text: str


class Typing(_Frame):
    type: Literal["typing"]


ClientFrame = Annotated[Hello | Message | Typing, Field(discriminator="type")]
_client_frame: TypeAdapter[Hello | Message | Typing] = TypeAdapter(ClientFrame)
KNOWN_TYPES = ("hello", "message", "typing")


def max_frame_bytes(max_text_chars: int) -> int:
    """The largest frame a legal message can take: `max_text_chars` and a maximal client_msg_id, every character
    written as an escaped surrogate pair, in the envelope, plus some whitespace. The frame limit is derived from
    the text limit so that the two can never disagree."""
    envelope = len(json.dumps({"type": "message", "client_msg_id": "", "text": ""}))
    return envelope + MAX_BYTES_PER_CHAR * (MAX_CLIENT_MSG_ID + max_text_chars) + ENVELOPE_WHITESPACE


def frame_size(raw: str | bytes) -> int:
    """A frame's size in bytes on the wire (UTF-8 for text; a lone surrogate is counted, not raised on)."""
    return len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", errors="surrogatepass"))


def resume_point(last_seq: int, stored_end: int) -> int:
    """Where a resumed connection starts sending from: the client's `last_seq`, but never past the conversation's
    stored end, or every later message (seq <= last_seq) would be dropped as already shown."""
    return min(last_seq, stored_end)


# A JSON string, escapes included. An unterminated one runs to the end of the frame: a match that cannot fail
# keeps the scan linear (retrying from every later quote made an unterminated string of escaped quotes quadratic).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def nesting_depth(raw: str) -> int:
    """How deeply arrays and objects nest in `raw`, counted over the brackets outside strings without parsing."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub('""', raw)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def has_lone_surrogate(data: Any) -> bool:
    """Whether a parsed JSON value holds a string with a surrogate code point anywhere, keys included.

    json.loads turns an escaped pair ("\\ud83d\\ude00") into one astral character, so any surrogate left is
    unpaired: such a string cannot be encoded as UTF-8, for the database or for another client.
    """
    pending = [data]
    while pending:  # a loop, not recursion: the frame's depth is bounded, but nothing here has to rely on it
        value = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are Python's extensions, not JSON: stored, they would break every JSON reader downstream.
    raise ValueError(f"{name} is not JSON")


def parse_frame(raw: str | bytes, max_text_chars: int) -> Hello | Message | Typing:
    """Parse one client frame or raise ProtocolError with a code the client can act on."""
    if isinstance(raw, bytes):
        raise ProtocolError("binary_frame", "Frames must be JSON text frames; a binary frame is not accepted.")
    if nesting_depth(raw) > MAX_DEPTH:
        raise ProtocolError("too_deep", f"The frame nests arrays or objects more than {MAX_DEPTH} levels deep.")
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except ValueError:
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "A frame must be a JSON object.")
    if has_lone_surrogate(data):
        raise ProtocolError(
            "bad_unicode",
            "The frame holds a lone UTF-16 surrogate (\\ud800 to \\udfff not in a pair); text must be valid Unicode.",
        )
    kind = data.get("type")
    if kind not in KNOWN_TYPES:
        # reprlib: an unknown type is echoed back shortened, whatever its size.
        raise ProtocolError(
            "unknown_type", f"Unknown frame type {reprlib.repr(kind)}; expected one of {', '.join(KNOWN_TYPES)}."
        )
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
