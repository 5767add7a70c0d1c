"""The detector registry and the suite that runs every detector, then the policy."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from detectors.pattern_similarity import EscalationBank, PatternSimilarityDetector
from detectors.registry import DETECTORS, DetectorSuite, make_detector
from detectors.thresholds import Thresholds
from detectors.types import Conversation, Signal, Turn
from models.analysis import TurnAnalysis


def calm_conversation() -> Conversation:
    analysis = TurnAnalysis(
        text="Where is my order?",
        embedding=np.eye(4, dtype=np.float32)[0],
        negative=0.05,
        human_request=0.01,
        intents=(("order_status", 0.92), ("shipping_info", 0.05)),
        out_of_scope=0.1,
    )
    return Conversation(id="c-7", turns=(Turn("customer", "Where is my order?", analysis),))


class Exploding:
    """A detector with a bug."""

    name = "sentiment"

    def detect(self, conversation: Conversation, thresholds: object) -> Signal:
        raise ZeroDivisionError("division by zero")


class AlwaysFires:
    """A detector that fires and records the thresholds section it was given."""

    name = "explicit_request"

    def __init__(self) -> None:
        self.seen: object = None

    def detect(self, conversation: Conversation, thresholds: object) -> Signal:
        self.seen = thresholds
        return Signal(self.name, 0.97, 0.5, True, "Asked for a person: 'human please'")


def test_the_registry_holds_exactly_the_config_keys() -> None:
    assert set(DETECTORS) == {
        "sentiment",
        "intent_confidence",
        "explicit_request",
        "pattern_similarity",
        "stuck",
        "language",
    }
    assert set(DETECTORS) == set(Thresholds.model_fields)


@pytest.mark.parametrize("key", list(Thresholds.model_fields))
def test_each_factory_builds_the_detector_named_by_its_key(key: str) -> None:
    detector = make_detector(key, EscalationBank(dim=4))
    assert detector.name == key
    assert callable(detector.detect)


def test_the_pattern_detector_gets_the_shared_bank() -> None:
    bank = EscalationBank(dim=4)
    detector = make_detector("pattern_similarity", bank)
    assert isinstance(detector, PatternSimilarityDetector)
    assert detector.bank is bank


def test_an_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(LookupError, match="unknown detector 'sentimnet'.*sentiment, intent_confidence"):
        make_detector("sentimnet", EscalationBank(dim=4))


def test_a_failing_detector_never_silences_the_others(caplog: pytest.LogCaptureFixture) -> None:
    fires = AlwaysFires()
    suite = DetectorSuite([Exploding(), fires])

    with caplog.at_level(logging.ERROR, logger="detectors.registry"):
        decision = suite.run(calm_conversation(), Thresholds())

    assert decision.escalate
    assert decision.trigger == "explicit_request"
    assert fires.seen == Thresholds().explicit_request
    failed = decision.signals[0]
    assert (failed.detector, failed.score, failed.fired) == ("sentiment", 0.0, False)
    assert "failed" in failed.reason and "ZeroDivisionError" in failed.reason
    assert failed.evidence == {"error": "ZeroDivisionError: division by zero"}
    assert any("sentiment" in record.getMessage() and record.exc_info for record in caplog.records)


def test_only_failures_means_no_escalation() -> None:
    decision = DetectorSuite([Exploding()]).run(calm_conversation(), Thresholds())
    assert not decision.escalate
    assert decision.scores == {"sentiment": 0.0}


def test_the_built_suite_runs_all_four_detectors_on_a_calm_conversation() -> None:
    suite = DetectorSuite.build(EscalationBank(dim=4))
    decision = suite.run(calm_conversation(), Thresholds())
    assert [s.detector for s in decision.signals] == list(DETECTORS)
    assert not any("failed" in s.reason for s in decision.signals)
    assert not decision.escalate


def test_build_takes_a_subset_in_order_and_rejects_unknown_keys() -> None:
    bank = EscalationBank(dim=4)
    suite = DetectorSuite.build(bank, ["pattern_similarity", "explicit_request"])
    assert [d.name for d in suite.detectors] == ["pattern_similarity", "explicit_request"]
    with pytest.raises(LookupError, match="known detectors"):
        DetectorSuite.build(bank, ["sentiment", "mood"])
