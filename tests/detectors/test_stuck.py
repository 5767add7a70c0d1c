"""The stuck detector on hand-built conversations: the signs of each customer turn, and when they add up."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.stuck import StuckDetector, TurnSigns, turn_signs
from detectors.thresholds import StuckThresholds
from detectors.types import Conversation, Turn
from models.analysis import TurnAnalysis

T = StuckThresholds(sign=0.5, restated=0.8, signs=2)
DIM = 8


def axis(k: int) -> np.ndarray:
    vector = np.zeros(DIM, np.float32)
    vector[k] = 1.0
    return vector


def between(a: int, b: int, cosine: float) -> np.ndarray:
    """A unit vector whose cosine with axis(a) is `cosine`, the rest along axis(b)."""
    return (cosine * axis(a) + np.sqrt(1 - cosine**2) * axis(b)).astype(np.float32)


def customer(
    text: str, embedding: np.ndarray, intent: str = "other", signs: tuple[tuple[str, float], ...] = ()
) -> Turn:
    analysis = TurnAnalysis(text, embedding, 0.0, 0.0, ((intent, 0.9),), 0.0, signs=signs)
    return Turn("customer", text, analysis)


def bot(intent: str | None = None) -> Turn:
    return Turn("bot", f"answer for {intent}", intent=intent)


def detect(*turns: Turn, small_talk: frozenset[str] = frozenset(), thresholds: StuckThresholds = T):
    return StuckDetector(small_talk).detect(Conversation("c1", turns), thresholds)


FAILED = (("fix_failed", 0.9), ("repeat_contact", 0.1))


@pytest.mark.parametrize(("p", "shows"), [(0.5, True), (0.49, False)])
def test_a_sign_counts_from_its_threshold(p: float, shows: bool) -> None:
    turn = customer("I tried that already", axis(0), signs=(("fix_failed", p),))
    assert turn_signs([], turn, T, frozenset()) == TurnSigns("I tried that already", ("fix_failed",) if shows else ())


def test_every_sign_at_the_threshold_is_listed() -> None:
    turn = customer("third time, still broken", axis(0), signs=(("repeat_contact", 0.8), ("fix_failed", 0.7)))
    assert turn_signs([], turn, T, frozenset()).signs == ("repeat_contact", "fix_failed")


def test_restating_an_answered_message_is_a_sign() -> None:
    history = [customer("my tent leaks", axis(0)), bot()]
    close = customer("the tent is leaking", between(0, 1, 0.8))
    farther = customer("the tent, it leaks?", between(0, 1, 0.79))
    assert turn_signs(history, close, T, frozenset()).signs == ("restated",)
    assert turn_signs(history, farther, T, frozenset()).signs == ()


def test_restating_a_message_the_bot_did_not_answer_is_no_sign() -> None:
    history = [customer("my tent leaks", axis(0)), customer("hello?", axis(2))]
    assert turn_signs(history, customer("my tent leaks", axis(0)), T, frozenset()).signs == ()


def test_the_same_intent_as_the_bot_last_answer_is_a_sign() -> None:
    history = [customer("where is my order", axis(0), "track_order"), bot("track_order")]
    again = customer("but where is the parcel", axis(1), "track_order")
    other = customer("can I return it", axis(2), "returns")
    assert turn_signs(history, again, T, frozenset()).signs == ("same_answer",)
    assert turn_signs(history, other, T, frozenset()).signs == ()


def test_the_same_answer_counts_not_after_a_fallback_nor_for_small_talk() -> None:
    fallback = [customer("hmm", axis(0), "track_order"), bot(None)]
    assert turn_signs(fallback, customer("where", axis(1), "track_order"), T, frozenset()).signs == ()
    thanked = [customer("thanks", axis(0), "thanks"), bot("thanks")]
    assert turn_signs(thanked, customer("thanks again", axis(1), "thanks"), T, frozenset({"thanks"})).signs == ()
    assert turn_signs(thanked, customer("thanks again", axis(1), "thanks"), T, frozenset()).signs == ("same_answer",)


def test_fires_when_the_second_turn_shows_a_sign() -> None:
    signal = detect(
        customer("my tent leaks", axis(0), "leaks"),
        bot("leaks"),
        customer("I tried that, it still leaks", axis(1), "other", FAILED),
        bot("other"),
        customer("no, I want to know about the seams", axis(2), "other"),
    )
    assert signal.fired and signal.score == 1.0 and signal.threshold == 1.0
    assert signal.detector == "stuck"
    assert signal.reason == "The bot is not helping: the customer would get the same answer again (2 times so far)"
    assert signal.evidence == {"turns_with_signs": 2, "needed": 2, "latest": ["same_answer"]}


def test_the_reason_names_every_sign_of_the_newest_turn_in_words() -> None:
    signal = detect(
        customer("my tent leaks", axis(0), "leaks"),
        bot("leaks"),
        customer("I tried that", axis(1), "other", FAILED),
        bot("other"),
        customer("tent leaks", between(0, 3, 0.9), "other", (("not_answered", 0.6),)),
    )
    assert signal.fired
    assert signal.reason == (
        "The bot is not helping: the customer says the bot is not answering and restates an earlier message"
        " and would get the same answer again (2 times so far)"
    )


def test_one_sign_is_half_way() -> None:
    signal = detect(customer("hi", axis(0)), bot("greeting"), customer("I tried that", axis(1), signs=FAILED))
    assert not signal.fired and signal.score == 0.5
    assert signal.reason.startswith("The bot is not helping: the customer says the suggested fix did not work")
    assert signal.reason.endswith("(once so far)")


def test_does_not_fire_when_the_newest_turn_shows_no_sign() -> None:
    signal = detect(
        customer("a", axis(0), signs=FAILED),
        bot(),
        customer("b", axis(1), signs=FAILED),
        bot(),
        customer("thanks, sorted", axis(2)),
    )
    assert not signal.fired and signal.score == 1.0  # the count stays, but the customer has moved on
    assert signal.reason == "The latest message shows no sign that the bot is not helping."
    assert signal.evidence["latest"] == []


def test_signs_sets_how_many_turns_are_needed() -> None:
    turns = (customer("a", axis(0), signs=FAILED), bot(), customer("b", axis(1), signs=FAILED))
    three = T.model_copy(update={"signs": 3})
    assert detect(*turns).fired
    signal = detect(*turns, thresholds=three)
    assert not signal.fired and signal.score == pytest.approx(2 / 3)


def test_small_talk_intents_given_to_the_detector_may_repeat() -> None:
    turns = (
        customer("thanks", axis(0), "thanks", FAILED),
        bot("thanks"),
        customer("thank you!", axis(1), "thanks"),
    )
    assert detect(*turns).fired
    assert not detect(*turns, small_talk=frozenset({"thanks"})).fired


def test_no_customer_analysis_means_no_signal() -> None:
    signal = detect(Turn("bot", "Hi!"), Turn("customer", "typing..."))
    assert not signal.fired and signal.score == 0.0
    assert signal.reason == "No customer message to judge yet."
