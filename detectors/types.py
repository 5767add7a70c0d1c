"""The vocabulary the detectors speak: turns, conversations, signals and decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models.analysis import TurnAnalysis

Role = Literal["customer", "bot", "agent", "system"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation; customer turns carry the models' analysis."""

    role: Role
    text: str
    analysis: TurnAnalysis | None = None
    intent: str | None = None  # for bot turns: the intent the bot answered with, None for a fallback
    offers_person: bool = False  # for bot turns: the bot offered to bring in a person ("would you like a person?")


@dataclass(frozen=True, slots=True)
class Conversation:
    """The conversation so far, oldest turn first; the last customer turn is the one being judged."""

    id: str
    turns: tuple[Turn, ...]

    @property
    def customer_turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.role == "customer")

    @property
    def last_bot_turn(self) -> Turn | None:
        """The bot's newest message before the customer's newest one, if the bot spoke since the customer's previous turn."""
        for turn in reversed(self.turns[:-1]):
            if turn.role == "bot":
                return turn
            if turn.role == "customer":
                return None
        return None


@dataclass(frozen=True, slots=True)
class Signal:
    """One detector's verdict on the latest customer turn."""

    detector: str  # its key in the config, e.g. "explicit_request"
    score: float  # 0..1, compared with the detector's threshold
    threshold: float
    fired: bool
    reason: str  # one sentence for the agent: "Asked for a person: 'get me a human'"
    evidence: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict: hand over or not, why, and every detector's score."""

    escalate: bool
    trigger: str | None  # the primary detector, None when not escalating
    reasons: tuple[str, ...]
    signals: tuple[Signal, ...]

    @property
    def scores(self) -> dict[str, float]:
        return {s.detector: s.score for s in self.signals}

    @property
    def primary(self) -> Signal | None:
        return next((s for s in self.signals if s.detector == self.trigger), None)
