"""Labelled conversations for tuning: one JSON object per line, read strictly and written back the same way.

    {"id": "explicit-001", "category": "explicit-direct", "note": "asks after a routine question",
     "turns": [{"role": "customer", "text": "where is my order"}, {"role": "customer", "text": "get me a human"}],
     "expected": {"escalate": true, "turn": 2, "trigger": "explicit_request"}}

`category` (what kind of conversation it is, for per-category results) and `note` (why it is labelled so) are
optional.

`expected.turn` counts customer turns only, from 1. Bot turns are optional: when a conversation has none,
the replay produces them. Blank lines are ignored. Any other bad line stops the read with an error naming
the file and the line, because a label skipped in silence would bias every metric computed from the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from detectors.thresholds import Thresholds

ScriptRole = Literal["customer", "bot", "agent"]
ROLES: tuple[str, ...] = get_args(ScriptRole)
# The detectors are the sections of the thresholds schema, so a new detector is a known trigger at once.
TRIGGERS: tuple[str, ...] = tuple(Thresholds.model_fields)
SAMPLE_PATH = Path(__file__).resolve().parents[1] / "data" / "sample_conversations.jsonl"


class ConversationFormatError(ValueError):
    """A line of a conversations file that is not a valid labelled conversation."""

    def __init__(self, problem: str, line_no: int, source: str | None = None) -> None:
        self.problem = problem
        self.line_no = line_no
        self.source = source
        where = f"{source}, line {line_no}" if source else f"line {line_no}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class ScriptTurn:
    """One scripted message: who says it and what."""

    role: ScriptRole
    text: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; known roles: {', '.join(ROLES)}")
        if not self.text.strip():
            raise ValueError(f"empty text in a {self.role} turn")


@dataclass(frozen=True, slots=True)
class Expected:
    """What should happen: escalate or not, at which customer turn (1-based), caught by which detector."""

    escalate: bool
    turn: int | None = None  # set exactly when escalating
    trigger: str | None = None  # None when not escalating, or when any detector will do

    def __post_init__(self) -> None:
        if self.escalate and (self.turn is None or self.turn < 1):
            raise ValueError(f"an expected escalation needs a customer turn >= 1, got {self.turn!r}")
        if not self.escalate and (self.turn is not None or self.trigger is not None):
            raise ValueError("turn and trigger must be null when escalate is false")
        if self.trigger is not None and self.trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {self.trigger!r}; known detectors: {', '.join(TRIGGERS)}")

    def to_json(self) -> dict[str, Any]:
        return {"escalate": self.escalate, "turn": self.turn, "trigger": self.trigger}


@dataclass(frozen=True, slots=True)
class LabelledConversation:
    """A scripted conversation and its label."""

    id: str
    turns: tuple[ScriptTurn, ...]
    expected: Expected
    category: str | None = None  # the kind of conversation, e.g. "explicit-indirect"; results are broken down by it
    note: str | None = None  # the author's one line on why it is labelled so

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("empty id")
        if self.category is not None and not self.category.strip():
            raise ValueError("empty category")
        count = len(self.customer_texts)
        if count == 0:
            raise ValueError("no customer turn")
        if self.expected.turn is not None and self.expected.turn > count:
            raise ValueError(
                f"expected turn {self.expected.turn} is out of range: the conversation has {count} customer "
                f"turn{'' if count == 1 else 's'}"
            )

    @property
    def customer_texts(self) -> tuple[str, ...]:
        return tuple(turn.text for turn in self.turns if turn.role == "customer")

    @property
    def has_bot_turns(self) -> bool:
        return any(turn.role == "bot" for turn in self.turns)

    def to_json(self) -> dict[str, Any]:
        optional = {
            key: value for key, value in (("category", self.category), ("note", self.note)) if value is not None
        }
        return {
            "id": self.id,
            **optional,
            "turns": [{"role": turn.role, "text": turn.text} for turn in self.turns],
            "expected": self.expected.to_json(),
        }


def parse_line(text: str, line_no: int, *, source: str | None = None) -> LabelledConversation:
    """One line of the file as a labelled conversation; anything wrong raises ConversationFormatError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConversationFormatError(f"bad JSON: {error.msg} (column {error.colno})", line_no, source) from None
    try:
        return _conversation(data)
    except ValueError as error:
        raise ConversationFormatError(str(error), line_no, source) from None


def read_conversations(path: str | Path) -> list[LabelledConversation]:
    """Every conversation in a JSON Lines file, in file order. Blank lines are ignored; ids must be unique."""
    source = str(path)
    conversations: list[LabelledConversation] = []
    first_seen: dict[str, int] = {}
    with Path(path).open("rb") as lines:
        for line_no, raw in enumerate(lines, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ConversationFormatError("not UTF-8 text", line_no, source) from None
            if not line.strip():
                continue
            conversation = parse_line(line, line_no, source=source)
            if conversation.id in first_seen:
                problem = f"duplicate id {conversation.id!r} (first used on line {first_seen[conversation.id]})"
                raise ConversationFormatError(problem, line_no, source)
            first_seen[conversation.id] = line_no
            conversations.append(conversation)
    return conversations


def write_conversations(path: str | Path, items: Iterable[LabelledConversation]) -> int:
    """Write one conversation per line (UTF-8, readable non-ASCII); returns how many were written."""
    items = list(items)
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"duplicate id {item.id!r}: ids must be unique within a file")
        seen.add(item.id)
    with Path(path).open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
    return len(items)


# Parsing: check the JSON types here; the dataclasses check what the values mean.


def _conversation(data: object) -> LabelledConversation:
    fields = _object(data, "conversation", required=("id", "turns", "expected"), optional=("category", "note"))
    turns = fields["turns"]
    if not isinstance(turns, list):
        raise ValueError(f"'turns' must be an array, got {_kind(turns)}")
    category, note = fields.get("category"), fields.get("note")
    return LabelledConversation(
        id=_string(fields["id"], "'id'"),
        turns=tuple(_turn(turn, f"turn {number}") for number, turn in enumerate(turns, start=1)),
        expected=_expected(fields["expected"]),
        category=None if category is None else _string(category, "'category'"),
        note=None if note is None else _string(note, "'note'"),
    )


def _turn(data: object, where: str) -> ScriptTurn:
    fields = _object(data, where, required=("role", "text"), optional=())
    role = _string(fields["role"], f"{where}: 'role'")
    text = _string(fields["text"], f"{where}: 'text'")
    try:
        return ScriptTurn(role=cast(ScriptRole, role), text=text)  # ScriptTurn refuses any other role
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def _expected(data: object) -> Expected:
    # turn and trigger may be left out when escalate is false: absent means null.
    fields = _object(data, "'expected'", required=("escalate",), optional=("turn", "trigger"))
    escalate, turn, trigger = fields["escalate"], fields.get("turn"), fields.get("trigger")
    if not isinstance(escalate, bool):
        raise ValueError(f"'expected.escalate' must be true or false, got {_kind(escalate)}")
    if turn is not None and (isinstance(turn, bool) or not isinstance(turn, int)):
        raise ValueError(f"'expected.turn' must be an integer or null, got {_kind(turn)}")
    if trigger is not None and not isinstance(trigger, str):
        raise ValueError(f"'expected.trigger' must be a detector name or null, got {_kind(trigger)}")
    try:
        return Expected(escalate=escalate, turn=turn, trigger=trigger)
    except ValueError as error:
        raise ValueError(f"'expected': {error}") from None


def _object(data: object, where: str, *, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a JSON object, got {_kind(data)}")
    for key in required:
        if key not in data:
            raise ValueError(f"{where}: missing key {key!r}")
    # Unknown keys are usually typos ("expect", "trun"); reading past them would drop a label.
    allowed = required + optional
    for key in data:
        if key not in allowed:
            raise ValueError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(allowed)}")
    return data


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
