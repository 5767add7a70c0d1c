"""Sentiment: fire on one strongly negative customer message, or on negativity that stays high.

Each customer turn's `analysis.negative` (P(negative) from the sentiment head) is smoothed by an
exponentially weighted moving average over the customer turns, oldest first:

    trend_1 = n_1,    trend_t = smoothing * n_t + (1 - smoothing) * trend_{t-1}

The detector fires when the newest message alone reaches `thresholds.message`, or when the trend
reaches `thresholds.trend` once at least `min_turns` customer turns have been seen. The trend catches
a customer who is steadily annoyed without any single message being extreme; the message threshold
catches an outburst at once. The decision is a pure function of the negativity numbers (`judge`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from detectors.thresholds import SentimentThresholds
from detectors.types import Conversation, Signal

Cause = Literal["message", "trend"]


def smoothed(negativities: Sequence[float], smoothing: float) -> list[float]:
    """The exponentially weighted moving average after each turn (the first turn starts the average)."""
    trend: list[float] = []
    for value in negativities:
        trend.append(value if not trend else smoothing * value + (1.0 - smoothing) * trend[-1])
    return trend


@dataclass(frozen=True, slots=True)
class SentimentVerdict:
    """What `judge` decided, with the number and threshold that explain it."""

    fired: bool
    cause: Cause  # which test fired, or, when neither did, the one that came closest
    score: float
    threshold: float
    message: float  # the newest message's negativity
    trend: float  # the smoothed negativity after the newest message
    turns: int


def judge(negativities: Sequence[float], thresholds: SentimentThresholds) -> SentimentVerdict:
    """Decide on the newest of the customer's per-turn negativities (oldest first, at least one)."""
    if not negativities:
        raise ValueError("judge needs at least one customer turn's negativity")
    trend = smoothed(negativities, thresholds.smoothing)[-1]
    message = negativities[-1]
    turns = len(negativities)
    message_fires = message >= thresholds.message
    trend_counts = turns >= thresholds.min_turns
    trend_fires = trend_counts and trend >= thresholds.trend
    if message_fires:
        cause: Cause = "message"
    elif trend_fires:
        cause = "trend"
    elif trend_counts and trend / thresholds.trend > message / thresholds.message:
        cause = "trend"  # not fired: report whichever test came relatively closer
    else:
        cause = "message"
    score, threshold = (message, thresholds.message) if cause == "message" else (trend, thresholds.trend)
    return SentimentVerdict(message_fires or trend_fires, cause, score, threshold, message, trend, turns)


def describe(verdict: SentimentVerdict, negativities: Sequence[float], smoothing: float) -> str:
    """One sentence for the agent."""
    comparison = "≥" if verdict.fired else "<"
    numbers = f"({verdict.score:.2f} {comparison} {verdict.threshold:.2f})"
    if verdict.cause == "message":
        return f"Very negative message {numbers}"
    trend = smoothed(negativities, smoothing)
    direction = "rising" if len(trend) < 2 or trend[-1] >= trend[-2] else "high"
    return f"Frustration {direction} over the last {negative_run(negativities)} messages {numbers}"


def negative_run(negativities: Sequence[float], level: float = 0.5) -> int:
    """How many of the newest messages in a row lean negative (at least 1)."""
    run = 0
    for value in reversed(negativities):
        if value < level:
            break
        run += 1
    return max(1, run)


class SentimentDetector:
    """Per-message negativity plus its smoothed trend over the customer's turns."""

    name = "sentiment"
    evidence_turns = 5  # how much of the trajectory the agent sees

    def detect(self, conversation: Conversation, thresholds: SentimentThresholds) -> Signal:
        analyses = [t.analysis for t in conversation.customer_turns if t.analysis is not None]
        if not analyses:
            return Signal(self.name, 0.0, thresholds.message, False, "No customer message to judge yet.")
        negativities = [float(a.upset) for a in analyses]
        verdict = judge(negativities, thresholds)
        trend = smoothed(negativities, thresholds.smoothing)
        recent = slice(-self.evidence_turns, None)
        return Signal(
            detector=self.name,
            score=verdict.score,
            threshold=verdict.threshold,
            fired=verdict.fired,
            reason=describe(verdict, negativities, thresholds.smoothing),
            evidence={
                "cause": verdict.cause,
                "negativity": [round(v, 3) for v in negativities[recent]],
                "trend": [round(v, 3) for v in trend[recent]],
                "message": round(verdict.message, 3),
                "smoothed": round(verdict.trend, 3),
            },
        )
