"""The explicit-request detector on hand-built analyses: requests in one sentence of several, in languages the bot
does not speak, a yes to the bot's offer of a person, and a person named before what they should do."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.explicit_request import ExplicitRequestDetector, read_request
from detectors.thresholds import ExplicitRequestThresholds
from detectors.types import Conversation, Turn
from models.analysis import SentenceAnalysis, TurnAnalysis

T = ExplicitRequestThresholds(threshold=0.9, with_phrase=0.1)
EMPTY = np.zeros(4, np.float32)


def analysis(
    text: str,
    human_request: float = 0.01,
    sentences: tuple[SentenceAnalysis, ...] = (),
    language: str = "en",
    confidence: float = 0.9,
) -> TurnAnalysis:
    return TurnAnalysis(
        text, EMPTY, 0.0, human_request, (), 0.0, sentences=sentences, language=language, language_confidence=confidence
    )


def detect(*turns: Turn, spoken: tuple[str, ...] = ("en",)):
    return ExplicitRequestDetector(spoken).detect(Conversation("c1", turns), T)


def customer(text: str, **fields: object) -> Turn:
    return Turn("customer", text, analysis(text, **fields))  # type: ignore[arg-type]


PROBLEM = "My tent arrived torn and the returns page errors out."
REQUEST = "Can I talk to someone?"
MESSAGE = f"{PROBLEM} {REQUEST}"


def test_a_request_in_one_sentence_fires_when_the_whole_message_scores_low() -> None:
    sentences = (SentenceAnalysis(PROBLEM, EMPTY, 0.02), SentenceAnalysis(REQUEST, EMPTY, 0.95))
    signal = detect(customer(MESSAGE, human_request=0.04, sentences=sentences))
    assert signal.fired and signal.score == pytest.approx(0.95)
    assert signal.reason == "Asked for a person: 'Can I talk to someone'"
    assert signal.evidence["phrase"] == "Can I talk to someone"
    assert signal.evidence["sentences"] == [0.02, 0.95]


def test_without_the_sentence_the_diluted_message_does_not_fire() -> None:
    signal = detect(customer(MESSAGE, human_request=0.04))
    assert not signal.fired and signal.score == pytest.approx(0.04)
    assert signal.reason.startswith("No request for a person (0.04 < 0.10)")


def test_a_low_sentence_does_not_fire_either() -> None:
    sentences = (SentenceAnalysis(PROBLEM, EMPTY, 0.02), SentenceAnalysis(REQUEST, EMPTY, 0.05))
    assert not detect(customer(MESSAGE, human_request=0.04, sentences=sentences)).fired


def test_a_request_in_spanish_fires_naming_the_language() -> None:
    signal = detect(customer("Hola, quiero hablar con una persona por favor", language="es"))
    assert signal.fired and signal.score == 1.0
    assert signal.reason == "Asked for a person in Spanish: 'hablar con una persona'"
    assert signal.evidence == {"phrase": "hablar con una persona", "language": "es"}


def test_other_languages_phrases_are_searched_when_the_text_is_too_short_to_tell() -> None:
    signal = detect(customer("con un agente", language="", confidence=0.0))
    assert signal.fired and "Spanish" in signal.reason


def test_english_is_never_searched_for_other_languages_phrases() -> None:
    # "service client" is a French request phrase; an English message holding it is not a request in French.
    signal = detect(customer("the service client app crashed", language="en", confidence=0.4))
    assert not signal.fired


def test_a_language_the_bot_speaks_is_left_to_the_head() -> None:
    signal = detect(customer("quiero hablar con una persona", language="es"), spoken=("en", "es"))
    assert not signal.fired  # the head scored it 0.01


OFFER = Turn("bot", "Would you like me to connect you with a person?", offers_person=True)
ANSWER = Turn("bot", "Track it at /orders.", intent="track_order")


def test_yes_to_the_bot_offer_of_a_person_fires() -> None:
    signal = detect(customer("where is my order"), OFFER, customer("yes please"))
    assert signal.fired and signal.score == 1.0
    assert signal.reason == "Said yes to the bot's offer of a person: 'yes please'"
    assert signal.evidence["accepted_offer"] is True


def test_yes_in_the_customer_language_accepts_the_offer() -> None:
    assert detect(customer("hola"), OFFER, customer("sí, claro", language="es")).fired


def test_yes_without_an_offer_does_not_fire() -> None:
    signal = detect(customer("where is my order"), ANSWER, customer("yes please"))
    assert not signal.fired and "Said yes" not in signal.reason


def test_an_offer_before_the_customer_previous_turn_does_not_count() -> None:
    assert not detect(OFFER, customer("hmm"), customer("yes please")).fired


@pytest.mark.parametrize(
    "text",
    [
        "could someone who works there look at it",
        "is there anyone I could talk to",
        "would it be possible for a human to ring me",
    ],
)
def test_a_person_followed_by_what_they_should_do_asks(text: str) -> None:
    reading = read_request(text)
    assert reading.asks and not reading.vetoed
    signal = detect(customer(text, human_request=0.2))  # below the head's own bar, above the phrase bar
    assert signal.fired


@pytest.mark.parametrize("text", ["do i have meetings with anyone today", "anyone can look it up online"])
def test_a_weak_person_word_without_request_framing_does_not_ask(text: str) -> None:
    assert not read_request(text).asks
    assert not detect(customer(text, human_request=0.2)).fired


@pytest.mark.parametrize(
    ("text", "why", "words"),
    [
        ("Please don't pass me on to anybody", "negated", "negated"),
        ("My neighbour told me that a real person would call me back", "reported", "reported speech"),
    ],
)
def test_negation_and_reported_speech_veto_the_head(text: str, why: str, words: str) -> None:
    reading = read_request(text)
    assert reading.vetoed and reading.why == why
    signal = detect(customer(text, human_request=0.99))
    assert not signal.fired and signal.score == 0.0
    assert signal.evidence["vetoed"] == why
    assert signal.reason.startswith(f"Mentions a person but does not ask for one ({words}:")


def test_a_negated_mention_does_not_veto_a_request_beside_it() -> None:
    text = "Please don't pass me on to anybody yet. Actually, could I talk to a manager?"
    signal = detect(customer(text, human_request=0.5))
    assert signal.fired and signal.reason == "Asked for a person: 'I talk to a manager'"
