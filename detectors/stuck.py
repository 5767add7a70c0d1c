"""Stuck: fire at the second sign that the bot is not helping.

Intent confidence asks whether the bot understood a message; this asks whether its answers are getting the
customer anywhere. A customer turn shows a sign when:

- it says a suggested fix failed ("I tried that, same error"), that this is a repeated contact ("third time I'm
  writing about this"), or that the bot is not answering ("that's not what I asked"): the `signs` the analysis
  read off the message (models.stuck_signs);
- it restates an earlier customer message that the bot already answered (cosine similarity of the two turns'
  embeddings at `thresholds.restated`);
- the bot would give the same answer again: the message's best intent is the one the bot last answered with.

One sign is normal (a customer may need a second try, or ask a follow-up on the same topic); the detector fires
once `thresholds.signs` turns (default 2) have shown one. The count starts afresh when a person hands the chat
back, because the conversation it judges starts there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detectors.thresholds import StuckThresholds
from detectors.types import Conversation, Signal, Turn

SMALL_TALK_TOPICS = frozenset({"small_talk"})
_SIGN_WORDS = {
    "fix_failed": "says the suggested fix did not work",
    "repeat_contact": "says this is a repeated contact",
    "not_answered": "says the bot is not answering",
    "restated": "restates an earlier message",
    "same_answer": "would get the same answer again",
}


@dataclass(frozen=True, slots=True)
class TurnSigns:
    """The signs one customer turn shows (by name), and the text to quote."""

    text: str
    signs: tuple[str, ...]


def turn_signs(
    history: Sequence[Turn], turn: Turn, thresholds: StuckThresholds, small_talk: frozenset[str]
) -> TurnSigns:
    """The signs of `turn`, a customer turn, given the turns before it."""
    analysis = turn.analysis
    assert analysis is not None
    found = [name for name, p in analysis.signs if p >= thresholds.sign]
    answered = {
        id(t) for t, nxt in zip(history, history[1:], strict=False) if t.role == "customer" and nxt.role == "bot"
    }
    # Earlier customer turns the bot answered (every turn in `answered` is a customer's).
    similar = [
        float(np.dot(analysis.embedding, t.analysis.embedding))
        for t in history
        if id(t) in answered and t.analysis is not None
    ]
    if similar and max(similar) >= thresholds.restated:
        found.append("restated")
    last_answer = next((t for t in reversed(history) if t.role == "bot"), None)
    if (
        last_answer is not None
        and last_answer.intent is not None
        and last_answer.intent not in small_talk
        and analysis.top_intent == last_answer.intent
    ):
        found.append("same_answer")
    return TurnSigns(turn.text, tuple(found))


class StuckDetector:
    """Counts the customer turns that showed a sign of the bot not helping."""

    name = "stuck"

    def __init__(self, small_talk: frozenset[str] = frozenset()) -> None:
        self.small_talk = small_talk  # intents whose answer may well be given twice ("you're welcome!")

    def detect(self, conversation: Conversation, thresholds: StuckThresholds) -> Signal:
        turns = conversation.turns
        judged = [
            turn_signs(turns[:i], turn, thresholds, self.small_talk)
            for i, turn in enumerate(turns)
            if turn.role == "customer" and turn.analysis is not None
        ]
        if not judged:
            return Signal(self.name, 0.0, 1.0, False, "No customer message to judge yet.")
        showing = [t for t in judged if t.signs]
        needed = thresholds.signs
        fired = len(showing) >= needed and bool(judged[-1].signs)
        evidence: dict[str, object] = {
            "turns_with_signs": len(showing),
            "needed": needed,
            "latest": list(judged[-1].signs),
        }
        if not judged[-1].signs:
            reason = "The latest message shows no sign that the bot is not helping."
        else:
            what = " and ".join(_SIGN_WORDS.get(s, s) for s in judged[-1].signs)
            times = "once so far" if len(showing) == 1 else f"{len(showing)} times so far"
            reason = f"The bot is not helping: the customer {what} ({times})"
        return Signal(self.name, min(1.0, len(showing) / needed), 1.0, fired, reason, evidence)
