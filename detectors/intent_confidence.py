"""Intent confidence: fire when the bot has not understood the customer several turns in a row.

A customer turn is *uncertain* when the knowledge base's intent model either
- is out of scope: `analysis.out_of_scope` reaches `thresholds.out_of_scope` (nothing known is near), or
- is unsure: the top intent's probability is below `thresholds.confidence`, or
- is torn: the two most probable intents are closer than `thresholds.margin`.

One miss is normal (a typo, an odd phrasing; about 6% of in-scope CLINC150 queries score as out of
scope at the default), so the detector fires only after `thresholds.consecutive` uncertain customer
turns in a row; a certain turn resets the count. The per-turn test (`judge_turn`) and the streak
(`uncertain_streak`) are pure functions of numbers.

Only messages that are owed an answer count: "ok I'll check the forest service site, thanks anyway" needs none,
so the bot not finding one in its knowledge base means nothing. Such acknowledgements neither add to the streak
nor break it (`asks_something`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from detectors.text import shorten
from detectors.thresholds import IntentConfidenceThresholds
from detectors.types import Conversation, Signal
from models.analysis import TurnAnalysis

Cause = Literal["out_of_scope", "unsure", "torn"]

_CAUSE_WORDS: dict[Cause, str] = {
    "out_of_scope": "Out of scope for the knowledge base",
    "unsure": "No confident intent match",
    "torn": "Torn between two intents",
}
_TIMES = {1: "once", 2: "twice", 3: "three times"}


@dataclass(frozen=True, slots=True)
class TurnVerdict:
    """Why one customer turn counts as uncertain (cause None when it is understood)."""

    cause: Cause | None
    top: float  # probability of the most probable intent (0 when there are none)
    margin: float  # top minus runner-up
    out_of_scope: float

    @property
    def uncertain(self) -> bool:
        return self.cause is not None


def judge_turn(top: float, runner_up: float, out_of_scope: float, t: IntentConfidenceThresholds) -> TurnVerdict:
    """The per-turn test; out of scope wins over unsure, unsure over torn, as the more telling cause."""
    margin = top - runner_up
    cause: Cause | None = None
    if out_of_scope >= t.out_of_scope:
        cause = "out_of_scope"
    elif top < t.confidence:
        cause = "unsure"
    elif margin < t.margin:
        cause = "torn"
    return TurnVerdict(cause, top, margin, out_of_scope)


def judge_analysis(analysis: TurnAnalysis, t: IntentConfidenceThresholds) -> TurnVerdict:
    """`judge_turn` on what the models said about one message."""
    intents = analysis.intents
    top = intents[0][1] if intents else 0.0
    runner_up = intents[1][1] if len(intents) > 1 else 0.0
    return judge_turn(top, runner_up, analysis.out_of_scope, t)


_ACKNOWLEDGEMENTS = frozenset(
    {"ok", "okay", "k", "kk", "great", "perfect", "cool", "thanks", "thank", "thx", "ty", "alright", "fine", "sure",
     "got", "good", "nice", "awesome", "brilliant", "lovely", "excellent", "noted", "understood", "yes", "yep", "yeah",
     "no", "nope", "nah", "bye", "cheers", "right", "wonderful", "super", "fab", "np", "merci", "gracias", "danke"}
)  # fmt: skip
_FILLER = frozenset({"so", "and", "but", "hi", "hello", "hey", "um", "hmm", "well", "oh", "ah", "aha", "then"})
# Openings that ask for something even without a question mark ("what about the poles", "can you check").
_ASKING = frozenset(
    {"how", "what", "whats", "what's", "where", "wheres", "where's", "when", "why", "who", "which", "can", "could",
     "would", "will", "do", "does", "is", "are", "should", "may", "please", "pls", "plz", "help", "tell", "need",
     "want", "any"}
)  # fmt: skip
_WORD = re.compile(r"[a-z']+")


def asks_something(text: str) -> bool:
    """Whether a message is owed an answer. Only an acknowledgement is not: no question mark, opening with "ok",
    "great", "thanks"... and no later sentence that asks ("ok. what about the poles" asks). Requests phrased as
    commands ("find me a campsite", "cancel it") are owed one."""
    if "?" in text:
        return True
    sentences = [_WORD.findall(sentence) for sentence in re.split(r"[.!,;\n]+", text.lower())]
    sentences = [[w for w in words if w not in _FILLER] for words in sentences]
    sentences = [words for words in sentences if words]
    if not sentences or sentences[0][0] not in _ACKNOWLEDGEMENTS:
        return True
    first = sentences[0]
    rest_of_first = first[next((k for k, w in enumerate(first) if w not in _ACKNOWLEDGEMENTS), len(first)) :]
    return any(words and words[0] in _ASKING for words in (rest_of_first, *sentences[1:]))


def uncertain_streak(verdicts: Sequence[TurnVerdict]) -> int:
    """How many of the newest verdicts in a row are uncertain."""
    streak = 0
    for verdict in reversed(verdicts):
        if not verdict.uncertain:
            break
        streak += 1
    return streak


class IntentConfidenceDetector:
    """Fires after `consecutive` customer turns in a row that the knowledge base did not understand."""

    name = "intent_confidence"

    def detect(self, conversation: Conversation, thresholds: IntentConfidenceThresholds) -> Signal:
        # Messages that ask nothing ("great, thanks") owe no answer: they neither count nor break a streak.
        analysed = [
            (t.text, t.analysis)
            for t in conversation.customer_turns
            if t.analysis is not None and asks_something(t.text)
        ]
        verdicts = [judge_analysis(analysis, thresholds) for _, analysis in analysed]
        streak = uncertain_streak(verdicts)
        needed = thresholds.consecutive
        # Score: progress towards the streak that fires, so 0.5 means "one more miss and I fire" at N=2.
        score = min(1.0, streak / needed)
        newest = conversation.customer_turns[-1] if conversation.customer_turns else None
        fired = streak >= needed and newest is not None and asks_something(newest.text)
        recent = list(zip(analysed, verdicts, strict=False))[-max(needed, 1) :]
        evidence: dict[str, object] = {
            "streak": streak,
            "needed": needed,
            "turns": [
                {
                    "text": text,
                    "intents": [[name, round(p, 4)] for name, p in analysis.intents],
                    "margin": round(v.margin, 4),
                    "out_of_scope": round(v.out_of_scope, 4),
                    "cause": v.cause,
                }
                for (text, analysis), v in recent
            ],
        }
        reason = describe(verdicts, [text for text, _ in analysed], streak)
        return Signal(self.name, score, 1.0, fired, reason, evidence)


def describe(verdicts: Sequence[TurnVerdict], texts: Sequence[str], streak: int) -> str:
    """One sentence for the agent, naming the newest turn's cause and quoting it."""
    if not verdicts:
        return "No analysed customer message yet"
    last = verdicts[-1]
    quote = repr(shorten(texts[-1]))
    if last.cause is None:
        return f"Understood the latest message (top intent {last.top:.2f}, out of scope {last.out_of_scope:.2f})"
    times = _TIMES.get(streak, f"{streak} times")
    detail = {
        "out_of_scope": f"score {last.out_of_scope:.2f}",
        "unsure": f"top intent {last.top:.2f}",
        "torn": f"margin {last.margin:.2f}",
    }[last.cause]
    return f"{_CAUSE_WORDS[last.cause]} {times} in a row ({detail}): {quote}"
