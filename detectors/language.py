"""Language: fire when the customer keeps writing in a language the bot does not speak.

The bot's models understand the deployment's languages only (English, with the shipped encoder). The first
message in another language gets a short notice in that language with an offer of a person (the responder's
job); if the customer goes on in that language, the bot cannot serve them, so after `consecutive` such messages
in a row (default 2) the chat goes to a person, with the reason "Writes in Spanish" so that it can be routed to
someone who reads it. A request for a person in that language is the explicit-request detector's, at once.

A message counts when the language guess is confident enough (`thresholds.confidence`): "ok" or "thx" tell
nothing, and an English message with one "gracias" in it stays English.
"""

from __future__ import annotations

from collections.abc import Mapping

from detectors.languages import LanguageData, load_languages
from detectors.thresholds import LanguageThresholds
from detectors.types import Conversation, Signal
from models.analysis import TurnAnalysis


def foreign_language(analysis: TurnAnalysis, spoken: tuple[str, ...], thresholds: LanguageThresholds) -> str | None:
    """The code of the language the message is written in, when the bot does not speak it and the guess is sure."""
    code = analysis.language
    if not code or code in spoken or analysis.language_confidence < thresholds.confidence:
        return None
    return code


def language_name(code: str, languages: Mapping[str, LanguageData] | None = None) -> str:
    data = (languages or load_languages()).get(code)
    return data.name if data else code


class LanguageDetector:
    """Counts the newest customer messages in a row written in one language the bot does not speak."""

    name = "language"

    def __init__(self, spoken: tuple[str, ...] = ("en",)) -> None:
        self.spoken = spoken

    def detect(self, conversation: Conversation, thresholds: LanguageThresholds) -> Signal:
        analyses = [t.analysis for t in conversation.customer_turns if t.analysis is not None]
        if not analyses:
            return Signal(self.name, 0.0, 1.0, False, "No customer message to judge yet.")
        newest = foreign_language(analyses[-1], self.spoken, thresholds)
        streak = 0
        for analysis in reversed(analyses):
            if newest is None or foreign_language(analysis, self.spoken, thresholds) != newest:
                break
            streak += 1
        needed = thresholds.consecutive
        evidence: dict[str, object] = {
            "language": analyses[-1].language,
            "confidence": round(analyses[-1].language_confidence, 3),
            "streak": streak,
            "needed": needed,
        }
        if newest is None:
            return Signal(self.name, 0.0, 1.0, False, "Writes in a language the bot speaks.", evidence)
        fired = streak >= needed
        reason = f"Writes in {language_name(newest)}" + (f" ({streak} messages in a row)" if streak > 1 else "")
        return Signal(self.name, min(1.0, streak / needed), 1.0, fired, reason, evidence)
