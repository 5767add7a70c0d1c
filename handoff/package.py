"""The handoff package: everything a person needs to take over a chat, as versioned JSON (docs/handoff.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detectors.records import BotReplyRecord, TurnScores
from detectors.types import Decision
from handoff.store import ConversationInfo, StoredMessage

SCHEMA_VERSION = 2  # 2: case_type, language and required_skills


def case_of(decision: Decision) -> dict[str, Any] | None:
    """The deployment case type the decision recognised ("legal", "injury"...), with its words and evidence."""
    for signal in decision.signals:
        if signal.detector == "pattern_similarity" and signal.fired and "case_type" in signal.evidence:
            evidence = signal.evidence
            return {
                "name": evidence["case_type"],
                "label": evidence.get("case_label"),
                "score": evidence.get("case_probability"),
                "sentence": evidence.get("sentence"),
                "example": evidence.get("example"),
            }
    return None


def language_of(decision: Decision) -> str | None:
    """The language the customer writes in, when the decision found it is one the bot does not speak."""
    for signal in decision.signals:
        language = signal.evidence.get("language") if signal.fired else None
        if signal.detector in ("language", "explicit_request") and isinstance(language, str) and language:
            return language
    return None


def build_package(
    conversation: ConversationInfo,
    messages: Sequence[StoredMessage],
    decision: Decision,
    summary: str,
    entities: list[dict[str, Any]],
    priority: str,
    priority_reasons: Sequence[str],
    team: str,
    language: dict[str, str] | None = None,
    required_skills: Sequence[str] = (),
) -> dict[str, Any]:
    """Assemble the package from the stored transcript (with each turn's scores) and the decision."""
    primary = decision.primary
    scored = [(m.seq, TurnScores.from_json(m.analysis)) for m in messages if m.sender == "customer" and m.analysis]
    return {
        "schema_version": SCHEMA_VERSION,
        "conversation_id": conversation.id,
        "created_at": conversation.created_at.isoformat(),
        "customer": conversation.customer,
        "trigger": {
            "detector": decision.trigger,
            "reason": primary.reason if primary else "",
            "score": round(primary.score, 4) if primary else None,
            "threshold": primary.threshold if primary else None,
        },
        "reasons": list(decision.reasons),
        "case_type": case_of(decision),
        "language": language,
        "priority": {"level": priority, "reasons": list(priority_reasons)},
        "team": team,
        "required_skills": list(required_skills),
        "summary": summary,
        "entities": entities,
        "transcript": [
            {"seq": m.seq, "sender": m.sender, "author": m.author, "text": m.text, "ts": m.created_at.isoformat()}
            for m in messages
        ],
        "turn_scores": [{"seq": seq, **_scores(scores)} for seq, scores in scored],
        "sentiment_trajectory": [scores.upset for _, scores in scored],
        "bot_attempts": [
            {"seq": m.seq, "text": m.text, "intent": said.intent, "confidence": said.confidence}
            for m, said in (
                (m, BotReplyRecord.from_json(m.analysis)) for m in messages if m.sender == "bot" and m.analysis
            )
        ],
    }


def _scores(scores: TurnScores) -> dict[str, Any]:
    return {
        "negative": scores.negative,
        "frustration": scores.frustration,
        "human_request": scores.human_request,
        "out_of_scope": scores.out_of_scope,
        "top_intent": list(scores.intents[0]) if scores.intents else [None, None],
        "language": scores.language,
        "detectors": {
            name: {"score": s.score, "threshold": s.threshold, "fired": s.fired} for name, s in scores.signals.items()
        },
    }


def latest_topic_intent(messages: Sequence[StoredMessage]) -> str | None:
    """The last intent the bot answered with, the best guess of what the chat is about."""
    for message in reversed(messages):
        intent = BotReplyRecord.from_json(message.analysis).intent if message.sender == "bot" else None
        if intent:
            return intent
    for message in reversed(messages):
        top = (
            TurnScores.from_json(message.analysis).top_intent
            if message.sender == "customer" and message.analysis
            else None
        )
        if top:
            return top
    return None
