"""The language detector on hand-built analyses: a streak of confident messages in a language the bot does not speak."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.language import LanguageDetector, foreign_language, language_name
from detectors.thresholds import LanguageThresholds
from detectors.types import Conversation, Turn
from models.analysis import TurnAnalysis

T = LanguageThresholds(confidence=0.6, consecutive=2)


def analysis(language: str, confidence: float = 0.9, text: str = "text") -> TurnAnalysis:
    return TurnAnalysis(
        text, np.zeros(4, np.float32), 0.0, 0.0, (), 0.0, language=language, language_confidence=confidence
    )


def customer(language: str, confidence: float = 0.9) -> Turn:
    return Turn("customer", f"a message in {language or 'nothing'}", analysis(language, confidence))


def detect(*turns: Turn, spoken: tuple[str, ...] = ("en",), thresholds: LanguageThresholds = T):
    return LanguageDetector(spoken).detect(Conversation("c1", turns), thresholds)


@pytest.mark.parametrize(
    ("language", "confidence", "expected"),
    [
        ("es", 0.9, "es"),
        ("es", 0.6, "es"),  # reaching the bar counts
        ("es", 0.59, None),  # a low-confidence guess does not
        ("en", 0.99, None),  # spoken
        ("", 0.0, None),  # undetermined
    ],
)
def test_foreign_language(language: str, confidence: float, expected: str | None) -> None:
    assert foreign_language(analysis(language, confidence), ("en",), T) == expected


def test_a_language_the_deployment_speaks_is_not_foreign() -> None:
    assert foreign_language(analysis("es"), ("en", "es"), T) is None


def test_language_name_is_the_english_name_or_the_code() -> None:
    assert language_name("es") == "Spanish"
    assert language_name("xx") == "xx"


def test_fires_after_two_spanish_messages_in_a_row() -> None:
    signal = detect(customer("en"), customer("es"), Turn("bot", "Lo siento..."), customer("es"))
    assert signal.fired and signal.score == 1.0 and signal.threshold == 1.0
    assert signal.detector == "language"
    assert signal.reason == "Writes in Spanish (2 messages in a row)"
    assert signal.evidence["language"] == "es" and signal.evidence["streak"] == 2
    assert signal.evidence["needed"] == 2


def test_one_foreign_message_is_half_way_and_names_the_language() -> None:
    signal = detect(customer("en"), customer("de"))
    assert not signal.fired and signal.score == 0.5
    assert signal.reason == "Writes in German"
    assert signal.evidence["streak"] == 1


def test_a_spoken_language_breaks_the_streak() -> None:
    signal = detect(customer("es"), customer("en"), customer("es"))
    assert not signal.fired and signal.evidence["streak"] == 1


def test_a_low_confidence_guess_breaks_the_streak() -> None:
    signal = detect(customer("es"), customer("es", 0.4), customer("es"))
    assert not signal.fired and signal.evidence["streak"] == 1


def test_a_different_foreign_language_breaks_the_streak() -> None:
    signal = detect(customer("fr"), customer("es"))
    assert not signal.fired and signal.reason == "Writes in Spanish"


def test_a_newest_message_in_a_spoken_language_does_not_count() -> None:
    signal = detect(customer("es"), customer("es"), customer("en"))
    assert not signal.fired and signal.score == 0.0
    assert signal.reason == "Writes in a language the bot speaks."
    assert signal.evidence["language"] == "en" and signal.evidence["streak"] == 0


def test_a_newest_unsure_guess_does_not_fire_either() -> None:
    assert not detect(customer("es"), customer("es"), customer("es", 0.3)).fired


def test_the_deployment_languages_are_spoken() -> None:
    assert not detect(customer("es"), customer("es"), spoken=("en", "es")).fired


def test_consecutive_sets_how_many_messages_are_needed() -> None:
    three = T.model_copy(update={"consecutive": 3})
    assert not detect(customer("es"), customer("es"), thresholds=three).fired
    signal = detect(customer("es"), customer("es"), customer("es"), thresholds=three)
    assert signal.fired and signal.reason == "Writes in Spanish (3 messages in a row)"
    assert detect(customer("es"), thresholds=T.model_copy(update={"consecutive": 1})).fired


def test_no_customer_analysis_means_no_signal() -> None:
    signal = detect(Turn("bot", "Hi!"), Turn("customer", "typing..."))
    assert not signal.fired and signal.score == 0.0
    assert signal.reason == "No customer message to judge yet."
