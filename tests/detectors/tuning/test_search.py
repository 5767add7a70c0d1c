"""detectors/tuning/search.py: the search space and coordinate descent, on a fake replayer."""

from __future__ import annotations

import pytest

from detectors.thresholds import Thresholds
from detectors.tuning.conversations import LabelledConversation
from detectors.tuning.objective import Objective
from detectors.tuning.search import Knob, search, search_space
from tests.detectors.tuning.fake_replayer import (
    START,
    FakeReplayer,
    conversation,
    explicit_cases,
)


def test_the_search_space_stays_inside_the_schema_and_starts_on_its_own_grid() -> None:
    current = Thresholds(explicit_request={"threshold": 0.913})
    knobs = {knob.key: knob for knob in search_space(current)}
    assert 0.913 in knobs["explicit_request.threshold"].values  # the current value, though off the grid
    assert knobs["intent_confidence.consecutive"].values[0] >= 1
    for knob in knobs.values():
        if not knob.is_switch:
            counts = knob.field in ("consecutive", "min_turns", "signs")
            assert all(0 <= value <= 1 or counts for value in knob.values), knob.key
    assert {"sentiment.enabled", "pattern_similarity.enabled"} <= set(knobs)


def test_a_knob_refuses_values_the_schema_refuses() -> None:
    knob = Knob("pattern_similarity", "window", (1, 3))
    assert knob.set(Thresholds(), 1) is None  # min_turns 2 > window 1: the schema rejects it
    assert knob.set(Thresholds(), 3) == Thresholds()


def test_search_finds_the_best_f1_and_changes_nothing_else() -> None:
    replayer = FakeReplayer(explicit_cases())
    result = search(replayer, START, Objective.parse("f1"))
    best = result.best.thresholds
    # The F1 plateau is [0.3, 0.45); the end nearest the current 0.9 is the last grid value below 0.45.
    assert best.explicit_request.threshold == 0.425
    assert result.best.figures.f1 == pytest.approx(10 / 11)
    assert best.model_dump(exclude={"explicit_request"}) == START.model_dump(exclude={"explicit_request"})
    assert result.replays == replayer.replays  # every distinct thresholds replayed once


def test_search_respects_the_precision_bound() -> None:
    result = search(FakeReplayer(explicit_cases()), START, Objective.parse("recall@precision>=0.9"))
    assert result.best.figures.precision == 1.0
    assert result.best.figures.recall == pytest.approx(0.8)
    assert result.best.thresholds.explicit_request.threshold == 0.575  # top of the [0.5, 0.6) plateau
    assert result.current.figures.recall == pytest.approx(0.2)  # from 0.9 only the 0.95 cut fires


def test_search_tunes_two_detectors_together() -> None:
    sentiment = [
        (conversation("angry-1", True, "sentiment"), "sentiment", 0.8),
        (conversation("angry-2", True, "sentiment"), "sentiment", 0.75),
        (conversation("sad-1", False), "sentiment", 0.7),
    ]
    result = search(FakeReplayer(explicit_cases() + sentiment), START, Objective.parse("f1"))
    # Sentiment: anything in [0.7, 0.75) catches both angry ones and not the sad one; 0.725 is nearest to 0.9.
    assert result.best.thresholds.sentiment.message == 0.725
    assert result.best.thresholds.explicit_request.threshold == 0.425
    assert result.best.figures.f1 == pytest.approx(14 / 15)  # TP 7, FP 1, FN 0


def test_sweeps_cover_every_value_of_every_knob_around_the_best() -> None:
    result = search(FakeReplayer(explicit_cases()), START, Objective.parse("f1"))
    for knob in result.knobs:
        assert [point.value for point in result.sweeps[knob.key]] == list(knob.values)
    best_value = result.best.thresholds.explicit_request.threshold
    at_best = [p for p in result.sweeps["explicit_request.threshold"] if p.value == best_value]
    assert at_best[0].figures == result.best.figures


def noisy_pattern_cases() -> list[tuple[LabelledConversation, str, float]]:
    # pattern_similarity fires on one negative at any threshold of the grid, and catches nothing.
    return explicit_cases() + [(conversation("noise", False), "pattern_similarity", 2.0)]


def test_a_detector_is_switched_off_when_that_improves_the_objective() -> None:
    result = search(FakeReplayer(noisy_pattern_cases()), START, Objective.parse("f1"))
    assert result.best.thresholds.pattern_similarity.enabled is False


def test_a_detector_stays_on_when_switching_it_off_only_wins_a_tie_breaker() -> None:
    # For recall the noisy detector costs nothing; switching it off would only raise F1 (a tie-breaker).
    result = search(FakeReplayer(noisy_pattern_cases()), START, Objective.parse("recall"))
    assert result.best.thresholds.pattern_similarity.enabled is True
    assert result.best.figures.recall == 1.0
