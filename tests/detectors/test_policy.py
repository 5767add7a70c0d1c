"""The escalation policy, driven with hand-written signals."""

from __future__ import annotations

import pytest

from detectors.policy import PRECEDENCE, decide, precedence_rank
from detectors.thresholds import Thresholds
from detectors.types import Signal

REASONS = {
    "explicit_request": "Asked for a person: 'get me a human'",
    "sentiment": "Very negative message (0.95)",
    "intent_confidence": "The bot was unsure twice in a row",
    "pattern_similarity": "Looks like a case about an injury: 'my son burned his hand on the stove'",
    "stuck": "The bot is not helping: the customer says the suggested fix did not work (2 times so far)",
    "language": "Writes in Spanish (2 messages in a row)",
}


def signal(detector: str, score: float, threshold: float = 0.5) -> Signal:
    return Signal(detector, score, threshold, score >= threshold, REASONS.get(detector, f"{detector} fired"))


def quiet() -> list[Signal]:
    return [signal(name, 0.1) for name in PRECEDENCE]


def with_fired(*names: str, score: float = 0.9) -> list[Signal]:
    return [signal(s.detector, score) if s.detector in names else s for s in quiet()]


def disabled(*names: str) -> Thresholds:
    return Thresholds.model_validate({name: {"enabled": False} for name in names})


def test_nothing_fires_means_no_escalation() -> None:
    decision = decide(quiet(), Thresholds())
    assert not decision.escalate
    assert decision.trigger is None
    assert decision.reasons == ()
    assert decision.scores == {name: 0.1 for name in PRECEDENCE}


@pytest.mark.parametrize("name", PRECEDENCE)
def test_each_detector_alone_escalates_and_is_the_trigger(name: str) -> None:
    decision = decide(with_fired(name), Thresholds())
    assert decision.escalate
    assert decision.trigger == name
    assert decision.reasons == (REASONS[name],)
    assert decision.primary is not None and decision.primary.detector == name


def test_precedence_picks_the_primary_and_orders_the_reasons() -> None:
    signals = with_fired("pattern_similarity", "sentiment", "explicit_request")
    decision = decide(signals, Thresholds())
    assert decision.trigger == "explicit_request"
    assert decision.reasons == (
        REASONS["explicit_request"],
        REASONS["pattern_similarity"],
        REASONS["sentiment"],
    )
    # The signals themselves keep the order the detectors ran in.
    assert [s.detector for s in decision.signals] == list(PRECEDENCE)


def test_precedence_beats_a_larger_margin() -> None:
    # Intent confidence is far above its threshold, sentiment barely: the order still decides.
    signals = [signal("intent_confidence", 0.99, 0.5), signal("sentiment", 0.51, 0.5)]
    assert decide(signals, Thresholds()).trigger == "sentiment"


def test_ties_on_score_are_broken_by_precedence() -> None:
    signals = [signal("intent_confidence", 0.7), signal("sentiment", 0.7)]
    decision = decide(signals, Thresholds())
    assert decision.trigger == "sentiment"
    assert decision.reasons == (REASONS["sentiment"], REASONS["intent_confidence"])


def test_unknown_detectors_come_last_in_arrival_order() -> None:
    signals = [signal("zeta", 0.9), signal("alpha", 0.9), signal("pattern_similarity", 0.9)]
    decision = decide(signals, Thresholds())
    assert decision.trigger == "pattern_similarity"
    assert decision.reasons == (REASONS["pattern_similarity"], "zeta fired", "alpha fired")
    assert precedence_rank("zeta") == precedence_rank("alpha") == len(PRECEDENCE)


def test_a_disabled_detector_is_reported_but_cannot_fire() -> None:
    decision = decide(with_fired("explicit_request"), disabled("explicit_request"))
    assert not decision.escalate
    reported = next(s for s in decision.signals if s.detector == "explicit_request")
    assert reported.score == 0.9
    assert not reported.fired
    assert reported.evidence == {"disabled": True}


def test_a_disabled_primary_hands_the_trigger_to_the_next_enabled() -> None:
    decision = decide(with_fired("explicit_request", "intent_confidence"), disabled("explicit_request", "sentiment"))
    assert decision.escalate
    assert decision.trigger == "intent_confidence"
    assert decision.reasons == (REASONS["intent_confidence"],)


def test_every_detector_disabled_never_escalates() -> None:
    decision = decide(with_fired(*PRECEDENCE), disabled(*PRECEDENCE))
    assert not decision.escalate
    assert len(decision.signals) == len(PRECEDENCE)
    assert not any(s.fired for s in decision.signals)


def test_no_signals_at_all() -> None:
    decision = decide([], Thresholds())
    assert (decision.escalate, decision.trigger, decision.signals) == (False, None, ())
