"""The sentiment detector's threshold logic, driven with hand-written negativities."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.sentiment import SentimentDetector, judge, negative_run, smoothed
from detectors.thresholds import SentimentThresholds
from detectors.types import Conversation, Turn
from models.analysis import TurnAnalysis

THRESHOLDS = SentimentThresholds(message=0.9, trend=0.6, smoothing=0.5, min_turns=2)


def conversation(*negativities: float) -> Conversation:
    turns: list[Turn] = []
    for i, value in enumerate(negativities):
        text = f"customer message {i}"
        analysis = TurnAnalysis(text, np.zeros(3, np.float32), value, 0.0, (), 0.0)
        turns += [Turn("customer", text, analysis), Turn("bot", f"bot reply {i}")]
    return Conversation("c-1", tuple(turns))


def test_smoothing_is_an_exponentially_weighted_average_started_by_the_first_turn() -> None:
    assert smoothed([0.2, 0.6, 1.0], 0.5) == pytest.approx([0.2, 0.4, 0.7])
    assert smoothed([0.2, 0.6], 1.0) == pytest.approx([0.2, 0.6])  # smoothing 1 keeps only the newest


def test_one_strongly_negative_message_fires_at_once() -> None:
    verdict = judge([0.95], THRESHOLDS)
    assert verdict.fired and verdict.cause == "message"
    assert (verdict.score, verdict.threshold) == (0.95, 0.9)


def test_the_message_threshold_is_inclusive() -> None:
    assert judge([0.9], THRESHOLDS).fired
    assert not judge([0.89], THRESHOLDS).fired


def test_sustained_negativity_fires_on_the_trend() -> None:
    # trend: 0.7, then 0.5*0.7 + 0.5*0.7 = 0.7 >= 0.6, while no message reaches 0.9
    verdict = judge([0.7, 0.7], THRESHOLDS)
    assert verdict.fired and verdict.cause == "trend"
    assert verdict.score == pytest.approx(0.7)
    assert verdict.threshold == 0.6


def test_the_trend_waits_for_min_turns() -> None:
    verdict = judge([0.8], THRESHOLDS)  # 0.8 >= trend 0.6 but only one turn
    assert not verdict.fired
    assert verdict.cause == "message"  # the only test that could apply is reported


def test_one_calm_message_pulls_the_trend_below_its_threshold() -> None:
    # 0.8 -> 0.5*0.3 + 0.5*0.8 = 0.55 < 0.6
    verdict = judge([0.8, 0.3], THRESHOLDS)
    assert not verdict.fired
    assert verdict.trend == pytest.approx(0.55)


def test_a_quiet_verdict_reports_the_test_that_came_relatively_closer() -> None:
    # message 0.5/0.9 = 0.56 of its bar; trend 0.5/0.6 = 0.83 of its bar
    assert judge([0.5, 0.5], THRESHOLDS).cause == "trend"
    # message 0.85/0.9 = 0.94; trend (0.1 -> 0.475)/0.6 = 0.79
    assert judge([0.1, 0.85], THRESHOLDS).cause == "message"


def test_judge_needs_a_turn() -> None:
    with pytest.raises(ValueError, match="at least one"):
        judge([], THRESHOLDS)


def test_negative_run_counts_the_newest_messages_in_a_row_that_lean_negative() -> None:
    assert negative_run([0.9, 0.2, 0.6, 0.7, 0.8]) == 3
    assert negative_run([0.1]) == 1


def test_detector_reports_a_rising_trend_with_its_trajectory() -> None:
    signal = SentimentDetector().detect(conversation(0.1, 0.6, 0.7, 0.8), THRESHOLDS)
    # trend: 0.1, 0.35, 0.525, 0.6625
    assert signal.fired
    assert signal.detector == "sentiment"
    assert signal.score == pytest.approx(0.6625)
    assert signal.reason == "Frustration rising over the last 3 messages (0.66 ≥ 0.60)"
    assert signal.evidence["negativity"] == [0.1, 0.6, 0.7, 0.8]
    assert signal.evidence["trend"] == [0.1, 0.35, 0.525, 0.662]


def test_detector_reports_a_single_outburst() -> None:
    signal = SentimentDetector().detect(conversation(0.1, 0.97), THRESHOLDS)
    assert signal.fired
    assert signal.reason == "Very negative message (0.97 ≥ 0.90)"
    assert signal.evidence["cause"] == "message"


def test_detector_stays_quiet_on_a_calm_conversation_and_says_why() -> None:
    signal = SentimentDetector().detect(conversation(0.1, 0.2), THRESHOLDS)
    assert not signal.fired
    assert signal.score < signal.threshold
    assert "<" in signal.reason


def test_detector_with_no_customer_turn_does_not_fire() -> None:
    signal = SentimentDetector().detect(Conversation("c-2", (Turn("bot", "Hello!"),)), THRESHOLDS)
    assert not signal.fired and signal.score == 0.0


def test_detector_keeps_only_the_last_five_turns_as_evidence() -> None:
    signal = SentimentDetector().detect(conversation(*[0.1] * 8), THRESHOLDS)
    assert len(signal.evidence["negativity"]) == 5  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def real_negativity(encoder):  # type: ignore[no-untyped-def]
    """P(negative) from the shipped sentiment branch on the real encoder's pass."""
    from models.heads import SENTIMENT_BRANCH_WEIGHTS

    branch = encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS)
    return lambda texts: [float(v) for v in encoder.encode_with_branch(texts, branch)[1][:, branch.index("negative")]]


@pytest.mark.slow
def test_real_branch_orders_clear_messages(real_negativity) -> None:  # type: ignore[no-untyped-def]
    calm, annoyed, furious = real_negativity(
        [
            "Thanks so much, that solved it!",
            "My parcel is late again and nobody answers my emails.",
            "This is the worst service ever, I am furious, you people are useless!",
        ]
    )
    assert calm < 0.2
    assert furious > annoyed > calm
    assert SentimentDetector().detect(conversation(calm, furious), SentimentThresholds()).fired


@pytest.mark.slow
def test_real_branch_keeps_a_polite_question_calm(real_negativity) -> None:  # type: ignore[no-untyped-def]
    [value] = real_negativity(["Could you tell me when my order will arrive?"])
    assert not SentimentDetector().detect(conversation(value), SentimentThresholds()).fired
