"""detectors/tuning/objective.py: objectives, bounds and per-category floors."""

from __future__ import annotations

import pytest

from detectors.tuning.objective import (
    CategoryFloors,
    Constraint,
    Figures,
    Objective,
    ObjectiveError,
)
from tests.detectors.tuning.fake_replayer import figures


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f1", Objective("f1")),
        ("recall@precision>=0.9", Objective("recall", Constraint("precision", ">=", 0.9))),
        (" precision @ recall >= .95 ", Objective("precision", Constraint("recall", ">=", 0.95))),
        ("on_time@precision>=0.9", Objective("on_time", Constraint("precision", ">=", 0.9))),
        ("recall@escalation_rate<=0.4", Objective("recall", Constraint("escalation_rate", "<=", 0.4))),
    ],
)
def test_objective_parses_the_accepted_forms(text: str, expected: Objective) -> None:
    assert Objective.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "accuracy",
        "escalation_rate",
        "recall@precision>0.9",
        "recall@precision>=1.5",
        "recall@speed>=0.5",
        "recall@precision",
        "f1 recall",
    ],
)
def test_objective_rejects_other_forms_and_lists_the_accepted_ones(text: str) -> None:
    with pytest.raises(ObjectiveError, match="accepted forms|between 0 and 1") as caught:
        Objective.parse(text)
    assert isinstance(caught.value, ValueError)


def test_objective_round_trips_through_its_text() -> None:
    for text in ("f1", "recall@precision>=0.9", "precision@escalation_rate<=0.3"):
        assert str(Objective.parse(text)) == text


def test_a_feasible_candidate_beats_a_better_infeasible_one() -> None:
    objective = Objective.parse("recall@precision>=0.9")
    meets = figures(precision=0.95, recall=0.6)
    misses = figures(precision=0.85, recall=0.9)
    assert objective.feasible(meets) and not objective.feasible(misses)
    assert objective.rank(meets) > objective.rank(misses)


def test_among_infeasible_candidates_the_nearest_to_the_bound_wins() -> None:
    objective = Objective.parse("recall@precision>=0.9")
    near, far = figures(precision=0.88, recall=0.2), figures(precision=0.5, recall=1.0)
    assert objective.rank(near) > objective.rank(far)


def test_an_undefined_precision_does_not_meet_a_precision_bound() -> None:
    nothing_escalated = figures(precision=None, recall=0.0, f1=0.0, escalated=0)
    assert not Objective.parse("recall@precision>=0.9").feasible(nothing_escalated)


def test_ties_go_to_f1_on_time_trigger_accuracy_fewer_escalations_then_closeness() -> None:
    objective = Objective.parse("recall@precision>=0.9")
    base = figures(precision=0.92, recall=0.8, f1=0.85, escalated=20)
    assert objective.rank(figures(0.95, 0.8, f1=0.87, escalated=20)) > objective.rank(base)
    assert objective.rank(figures(0.92, 0.8, f1=0.85, escalated=20, on_time=0.7)) > objective.rank(base)
    assert objective.rank(figures(0.92, 0.8, f1=0.85, escalated=20, trigger=0.9)) < objective.rank(base)
    assert objective.rank(figures(0.92, 0.8, f1=0.85, escalated=18)) > objective.rank(base)
    assert objective.rank(base, distance=0.1) > objective.rank(base, distance=0.3)


def test_floors_parse_and_name_the_failing_categories() -> None:
    floors = CategoryFloors.parse("caught>=0.85, false<=0.1")
    assert (floors.caught, floors.false) == (0.85, 0.1) and str(floors) == "caught>=0.85,false<=0.1"
    figures_ = Figures(
        1.0,
        0.5,
        0.6,
        0.5,
        None,
        0.3,
        categories=(("indirect", 0.5, None), ("routine", None, 0.2), ("direct", 1.0, None), ("thanks", None, 0.0)),
    )
    assert floors.failing(figures_) == ("indirect", "routine")
    assert floors.shortfall(figures_) == pytest.approx(0.35 + 0.1)
    with pytest.raises(ObjectiveError, match="caught>=0.85"):
        CategoryFloors.parse("caught>0.85")


def test_with_floors_fewer_failing_categories_beat_a_better_f1() -> None:
    objective = Objective.parse("f1").with_floors(CategoryFloors(caught=0.85))
    balanced = Figures(0.8, 0.8, 0.8, 0.8, None, 0.5, categories=(("a", 0.9, None), ("b", 0.9, None)))
    lopsided = Figures(0.9, 0.9, 0.9, 0.9, None, 0.5, categories=(("a", 1.0, None), ("b", 0.5, None)))
    assert objective.rank(balanced) > objective.rank(lopsided)
    assert objective.feasible(balanced) and not objective.feasible(lopsided)
