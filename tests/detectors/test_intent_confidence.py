"""The intent-confidence detector: the per-turn test and the streak, on hand-written numbers."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.intent_confidence import (
    IntentConfidenceDetector,
    asks_something,
    judge_turn,
    uncertain_streak,
)
from detectors.thresholds import IntentConfidenceThresholds
from detectors.types import Conversation, Turn
from models.analysis import TurnAnalysis

T = IntentConfidenceThresholds(confidence=0.3, margin=0.1, out_of_scope=0.5, consecutive=2)


@pytest.mark.parametrize(
    ("top", "runner_up", "oos", "cause"),
    [
        (0.90, 0.05, 0.10, None),  # confident, clear, in scope
        (0.90, 0.05, 0.50, "out_of_scope"),  # reaching the threshold counts
        (0.90, 0.05, 0.49, None),
        (0.29, 0.05, 0.10, "unsure"),
        (0.30, 0.05, 0.10, None),  # exactly at the confidence floor is confident enough
        (0.45, 0.40, 0.10, "torn"),  # margin 0.05 < 0.1
        (0.55, 0.40, 0.10, None),  # margin 0.15 is clear enough
        (0.20, 0.19, 0.90, "out_of_scope"),  # out of scope names the cause when several apply
        (0.20, 0.19, 0.10, "unsure"),  # unsure before torn
    ],
)
def test_judge_turn_names_the_cause(top: float, runner_up: float, oos: float, cause: str | None) -> None:
    verdict = judge_turn(top, runner_up, oos, T)
    assert verdict.cause == cause
    assert verdict.uncertain is (cause is not None)
    assert verdict.margin == pytest.approx(top - runner_up)


def test_streak_counts_only_the_newest_uncertain_run() -> None:
    sure, unsure = judge_turn(0.9, 0.0, 0.0, T), judge_turn(0.9, 0.0, 0.9, T)
    assert uncertain_streak([]) == 0
    assert uncertain_streak([unsure, unsure, sure]) == 0
    assert uncertain_streak([unsure, sure, unsure, unsure]) == 2


def customer(text: str, intents: tuple[tuple[str, float], ...], oos: float) -> Turn:
    analysis = TurnAnalysis(text, np.zeros(4, np.float32), 0.0, 0.0, intents, oos)
    return Turn("customer", text, analysis)


KNOWN = customer("where is my parcel", (("delivery", 0.92), ("refund", 0.03)), 0.05)
FLIGHT = customer("can you book me a flight", (("delivery", 0.40), ("refund", 0.20)), 0.93)
WEATHER = customer("what's the weather", (("refund", 0.35), ("delivery", 0.30)), 0.81)


def detect(*turns: Turn, thresholds: IntentConfidenceThresholds = T):
    return IntentConfidenceDetector().detect(Conversation("c1", turns), thresholds)


def test_fires_after_two_out_of_scope_turns_in_a_row() -> None:
    signal = detect(KNOWN, WEATHER, Turn("bot", "Sorry?"), FLIGHT)
    assert signal.fired and signal.score == 1.0 and signal.threshold == 1.0
    assert signal.detector == "intent_confidence"
    assert signal.reason.startswith("Out of scope for the knowledge base twice in a row")
    assert "can you book me a flight" in signal.reason
    turns = signal.evidence["turns"]
    assert [t["text"] for t in turns] == ["what's the weather", "can you book me a flight"]
    assert turns[-1]["intents"][0] == ["delivery", 0.4] and turns[-1]["margin"] == pytest.approx(0.2)
    assert turns[-1]["out_of_scope"] == pytest.approx(0.93)
    assert signal.evidence["streak"] == 2


def test_one_uncertain_turn_is_half_way_and_does_not_fire() -> None:
    signal = detect(KNOWN, FLIGHT)
    assert not signal.fired and signal.score == 0.5


def test_a_certain_turn_resets_the_count() -> None:
    signal = detect(FLIGHT, WEATHER, KNOWN)
    assert not signal.fired and signal.score == 0.0
    assert signal.reason.startswith("Understood the latest message")


def test_consecutive_one_fires_on_a_single_low_confidence_turn() -> None:
    vague = customer("hmm, what about that?", (("refund", 0.25), ("delivery", 0.2)), 0.1)
    signal = detect(KNOWN, vague, thresholds=T.model_copy(update={"consecutive": 1}))
    assert signal.fired
    assert signal.reason.startswith("No confident intent match once in a row (top intent 0.25)")


def test_torn_turns_fire_with_the_margin_in_the_reason() -> None:
    torn = customer("can you refund the delivery?", (("refund", 0.46), ("delivery", 0.44)), 0.2)
    signal = detect(torn, torn)
    assert signal.fired and "Torn between two intents" in signal.reason and "margin 0.02" in signal.reason


def test_turns_without_analysis_are_ignored_and_none_means_no_signal() -> None:
    bare = Turn("customer", "typing...")
    signal = detect(bare)
    assert not signal.fired and signal.score == 0.0
    assert detect(FLIGHT, bare, WEATHER).fired


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("where is my order", True),
        ("ok so how do I return it", True),
        ("My parcel never came. Can you check?", True),
        ("I need the invoice for NW-1234", True),
        ("ok I'll check the forest service site. thanks anyway", False),
        ("Great, replacement it is.", False),
        ("perfect, thanks so much!", False),
    ],
)
def test_only_messages_that_ask_something_owe_an_answer(text: str, asks: bool) -> None:
    assert asks_something(text) is asks


def test_a_message_that_asks_nothing_neither_counts_nor_breaks_the_streak() -> None:
    lost = customer("what is the capital of peru?", (("refund", 0.5), ("delivery", 0.1)), 0.9)
    thanks = customer("ok thanks anyway", (("refund", 0.2), ("delivery", 0.1)), 0.9)
    assert not detect(lost, thanks).fired  # the acknowledgement is not a second miss
    assert detect(lost, thanks, lost).fired  # nor does it reset the count
