"""The bot's responder: answers from the knowledge base with the intent the shared encoder pass found."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge_base import KnowledgeBase
from models.analysis import TurnAnalysis

FALLBACK = (
    "I'm not sure I understood that. Could you put it another way? "
    "If you'd rather, just say so and I'll connect you with a person."
)
FALLBACK_NOBODY_IN = (
    "I'm not sure I can help with that, and nobody from the team is in right now. "
    "Leave your email address and a short message here and we'll write back."
)


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    intent: str | None  # None when the bot fell back to saying it is unsure
    confidence: float


class Responder:
    """Picks the knowledge-base answer for a customer turn, or admits it is unsure."""

    def __init__(self, knowledge_base: KnowledgeBase, match_threshold: float) -> None:
        self.knowledge_base = knowledge_base
        self.match_threshold = match_threshold

    def reply(self, analysis: TurnAnalysis, people_available: bool = True) -> Reply:
        intent, confidence = analysis.top_intent, analysis.top_confidence
        if intent is None or confidence < self.match_threshold:
            return Reply(FALLBACK if people_available else FALLBACK_NOBODY_IN, None, confidence)
        return Reply(self.knowledge_base.intent(intent).answer, intent, confidence)
