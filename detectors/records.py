"""What is stored beside each message, as typed records: the scores of a customer turn, and what the bot answered.

The pipeline writes them (as JSON in the message's `analysis` column); the handoff package, the console, the admin
API and the conversation's rebuilt history read them back. One record, one parser: rows written by an older
version, with fields missing, read back with those fields empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from detectors.types import Decision
from models.analysis import TurnAnalysis


@dataclass(frozen=True, slots=True)
class SignalRecord:
    score: float
    threshold: float
    fired: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ShadowRecord:
    """What candidate thresholds decided on the same turn (shadow mode), and whether that differs from the live one."""

    escalate: bool
    trigger: str | None
    differs: bool


@dataclass(frozen=True, slots=True)
class TurnScores:
    """Every head's reading of one customer message and every detector's verdict on it."""

    negative: float
    human_request: float
    out_of_scope: float
    intents: tuple[tuple[str, float], ...]
    escalate: bool
    trigger: str | None
    signals: Mapping[str, SignalRecord] = field(default_factory=dict)
    frustration: float | None = None
    language: str = ""
    case_type: str | None = None
    shadow: ShadowRecord | None = None

    @property
    def top_intent(self) -> str | None:
        return self.intents[0][0] if self.intents else None

    @property
    def upset(self) -> float:
        """Frustration when it was measured, else the raw negativity (older rows)."""
        return self.negative if self.frustration is None else self.frustration

    @classmethod
    def of(cls, analysis: TurnAnalysis, decision: Decision, shadow: Decision | None = None) -> TurnScores:
        return cls(
            negative=round(analysis.negative, 4),
            human_request=round(analysis.human_request, 4),
            out_of_scope=round(analysis.out_of_scope, 4),
            intents=tuple((name, round(p, 4)) for name, p in analysis.intents),
            escalate=decision.escalate,
            trigger=decision.trigger,
            signals={
                s.detector: SignalRecord(round(s.score, 4), s.threshold, s.fired, s.reason) for s in decision.signals
            },
            frustration=None if analysis.frustration is None else round(analysis.frustration, 4),
            language=analysis.language,
            case_type=analysis.cases[0].name if analysis.cases else None,
            shadow=None
            if shadow is None
            else ShadowRecord(shadow.escalate, shadow.trigger, shadow.escalate != decision.escalate),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "negative": self.negative,
            "frustration": self.frustration,
            "human_request": self.human_request,
            "out_of_scope": self.out_of_scope,
            "intents": [[name, p] for name, p in self.intents],
            "language": self.language,
            "case_type": self.case_type,
            "signals": {
                name: {"score": s.score, "threshold": s.threshold, "fired": s.fired, "reason": s.reason}
                for name, s in self.signals.items()
            },
            "escalate": self.escalate,
            "trigger": self.trigger,
        }
        if self.shadow is not None:
            data["shadow"] = {
                "escalate": self.shadow.escalate,
                "trigger": self.shadow.trigger,
                "differs": self.shadow.differs,
            }
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TurnScores:
        shadow = data.get("shadow")
        return cls(
            negative=float(data.get("negative", 0.0)),
            human_request=float(data.get("human_request", 0.0)),
            out_of_scope=float(data.get("out_of_scope", 0.0)),
            intents=tuple((str(name), float(p)) for name, p in data.get("intents") or ()),
            escalate=bool(data.get("escalate", False)),
            trigger=data.get("trigger"),
            signals={
                name: SignalRecord(
                    float(s.get("score", 0.0)),
                    float(s.get("threshold", 1.0)),
                    bool(s.get("fired")),
                    str(s.get("reason", "")),
                )  # fmt: skip
                for name, s in (data.get("signals") or {}).items()
            },
            frustration=None if data.get("frustration") is None else float(data["frustration"]),
            language=str(data.get("language") or ""),
            case_type=data.get("case_type"),
            shadow=None
            if not isinstance(shadow, Mapping)
            else ShadowRecord(bool(shadow.get("escalate")), shadow.get("trigger"), bool(shadow.get("differs"))),
        )


@dataclass(frozen=True, slots=True)
class BotReplyRecord:
    """What the bot answered with: the intent (None when it did not answer from the knowledge base), how sure it
    was, and whether it offered a person (so that a "yes" next accepts)."""

    intent: str | None
    confidence: float
    offers_person: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"intent": self.intent, "confidence": self.confidence, "offers_person": self.offers_person}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> BotReplyRecord:
        data = data or {}
        return cls(data.get("intent"), float(data.get("confidence") or 0.0), bool(data.get("offers_person")))
