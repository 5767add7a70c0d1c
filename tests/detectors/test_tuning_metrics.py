"""The tuning metrics on hand-written outcomes; every expected number below was worked out by hand."""

from __future__ import annotations

import json

import pytest

from detectors.tuning.conversations import Expected
from detectors.tuning.metrics import (
    Outcome,
    compute,
    format_report,
    judge,
    outcome_from_decisions,
)
from detectors.types import Decision, Signal

NO = Expected(escalate=False)


def escalate(turn: int, trigger: str | None = None) -> Expected:
    return Expected(escalate=True, turn=turn, trigger=trigger)


def scores(*turns: float) -> list[dict[str, float]]:
    return [{"sentiment": s, "explicit_request": 0.1} for s in turns]


# Ten conversations:
#   a  TP  expected t2 sentiment,         escalated t2 sentiment          offset  0, trigger right
#   b  TP  expected t3 explicit_request,  escalated t1 explicit_request   offset -2 (early at tolerance 0 and 1)
#   c  TP  expected t1 explicit_request,  escalated t2 explicit_request   offset +1 (late at 0, on time at 1)
#   d  TP  expected t2 intent_confidence, escalated t2 sentiment          offset  0, trigger wrong
#   e  TP  expected t4, any trigger,      escalated t5 sentiment          offset +1, trigger not judged
#   f  FN  expected t2 pattern_similarity, never escalated
#   g  FN  expected t1 explicit_request,   never escalated (an empty fired list counts as not firing)
#   h  FP  not expected,                  escalated t1 explicit_request
#   i  TN, j  TN
TEN = [
    Outcome("a", escalate(2, "sentiment"), True, 2, "sentiment", {"sentiment": [2]}, scores(0.2, 0.8)),
    Outcome("b", escalate(3, "explicit_request"), True, 1, "explicit_request", {"explicit_request": [1, 2]}),
    Outcome("c", escalate(1, "explicit_request"), True, 2, "explicit_request", {"explicit_request": [2]}),
    Outcome(
        "d",
        escalate(2, "intent_confidence"),
        True,
        2,
        "sentiment",
        {"sentiment": [2], "intent_confidence": [3]},
        [
            {"sentiment": 0.30, "intent_confidence": 0.4},
            {"sentiment": 0.91, "intent_confidence": 0.5},
            {"sentiment": 0.20, "intent_confidence": 0.8},
        ],
    ),
    Outcome("e", escalate(4), True, 5, "sentiment", {"sentiment": [5]}),
    Outcome("f", escalate(2, "pattern_similarity"), False, scores=scores(0.1, 0.2)),
    Outcome("g", escalate(1, "explicit_request"), False, fired={"explicit_request": []}),
    Outcome("h", NO, True, 1, "explicit_request", {"explicit_request": [1], "sentiment": [1]}, scores(0.95)),
    Outcome("i", NO, False),
    Outcome("j", NO, False),
]


def test_escalating_at_all() -> None:
    report = compute(TEN)

    assert (report.count("tp"), report.count("fp"), report.count("fn"), report.count("tn")) == (5, 1, 2, 2)
    assert report.precision == pytest.approx(5 / 6)
    assert report.recall == pytest.approx(5 / 7)
    assert report.f1 == pytest.approx(10 / 13)  # 2TP / (2TP + FP + FN)
    assert report.escalation_rate == pytest.approx(6 / 10)
    assert report.false_escalations == ("h",)


def test_timing_with_tolerance_one() -> None:
    report = compute(TEN, tolerance=1)

    # On time: a (0), c (+1), d (0), e (+1). Early: b (-2). Missed: f, g.
    assert (report.count_timing("on_time"), report.early, report.late) == (4, 1, 0)
    assert report.on_time_rate == pytest.approx(4 / 7)  # of the seven that should escalate
    assert report.on_time_caught == pytest.approx(4 / 5)  # of the five that did


def test_timing_with_tolerance_zero() -> None:
    report = compute(TEN, tolerance=0)

    # On time: a, d. Early: b. Late: c, e.
    assert (report.count_timing("on_time"), report.early, report.late) == (2, 1, 2)
    assert report.on_time_rate == pytest.approx(2 / 7)
    assert report.on_time_caught == pytest.approx(2 / 5)
    assert {r.outcome.id: r.offset for r in report.results if r.verdict == "tp"} == {
        "a": 0,
        "b": -2,
        "c": 1,
        "d": 0,
        "e": 1,
    }


def test_the_offset_at_the_tolerance_is_on_time() -> None:
    late_by_two = Outcome("x", escalate(2), True, 4, "sentiment")
    early_by_two = Outcome("y", escalate(4), True, 2, "sentiment")

    assert judge(late_by_two, tolerance=2).timing == "on_time"
    assert judge(early_by_two, tolerance=2).timing == "on_time"
    assert judge(late_by_two, tolerance=1).timing == "late"
    assert judge(early_by_two, tolerance=1).timing == "early"


def test_trigger_accuracy_judges_only_true_positives_whose_label_names_a_trigger() -> None:
    report = compute(TEN)

    # Judged: a, b, c, d (e names no trigger; f, g were missed; h was not expected). Right: a, b, c.
    assert (report.trigger_correct, report.trigger_judged) == (3, 4)
    assert report.trigger_accuracy == pytest.approx(3 / 4)


def test_per_detector_fire_counts() -> None:
    detectors = {name: counts.to_json() for name, counts in compute(TEN).detectors.items()}

    assert list(detectors) == [
        "sentiment",
        "intent_confidence",
        "explicit_request",
        "pattern_similarity",
        "stuck",
        "language",
    ]
    # sentiment fired in a, d, e, h (h is a false alarm); it was the trigger of a, d and e.
    assert detectors["sentiment"] == {"conversations": 4, "turns": 4, "negatives": 1, "triggers": 3}
    # explicit_request fired on two turns of b, one of c and one of h; g's empty list is not a fire.
    assert detectors["explicit_request"] == {"conversations": 3, "turns": 4, "negatives": 1, "triggers": 3}
    assert detectors["intent_confidence"] == {"conversations": 1, "turns": 1, "negatives": 0, "triggers": 0}
    assert detectors["pattern_similarity"] == {"conversations": 0, "turns": 0, "negatives": 0, "triggers": 0}


def test_a_detector_outside_the_known_ones_is_counted_after_them() -> None:
    outcome = Outcome("x", escalate(1), True, 1, "keyword", {"keyword": [1]})
    detectors = compute([outcome]).detectors
    assert list(detectors)[-1] == "keyword"
    assert detectors["keyword"].conversations == 1 and detectors["keyword"].triggers == 1


def test_wrong_conversations_list_each_problem() -> None:
    wrong_at_one = {r.outcome.id: r.problems for r in compute(TEN, tolerance=1).wrong}
    assert wrong_at_one == {
        "b": ("early",),
        "d": ("wrong_trigger",),
        "f": ("missed",),
        "g": ("missed",),
        "h": ("false_escalation",),
    }

    wrong_at_zero = {r.outcome.id: r.problems for r in compute(TEN, tolerance=0).wrong}
    assert wrong_at_zero == {**wrong_at_one, "c": ("late",), "e": ("late",)}

    both = judge(Outcome("z", escalate(1, "sentiment"), True, 3, "explicit_request"), tolerance=1)
    assert both.problems == ("late", "wrong_trigger")


def test_to_json_has_the_headline_keys_and_every_conversation_with_its_scores() -> None:
    data = json.loads(json.dumps(compute(TEN).to_json()))  # must survive a JSON round trip

    assert {"precision", "recall", "f1", "on_time_rate", "trigger_accuracy", "escalation_rate", "conversations"} <= set(
        data
    )
    assert data["precision"] == pytest.approx(5 / 6)
    assert data["counts"] == {
        "conversations": 10,
        "positives": 7,
        "escalated": 6,
        "tp": 5,
        "fp": 1,
        "fn": 2,
        "tn": 2,
        "on_time": 4,
        "early": 1,
        "late": 0,
        "trigger_judged": 4,
        "trigger_correct": 3,
    }
    assert data["wrong"] == ["b", "d", "f", "g", "h"]
    assert [c["id"] for c in data["conversations"]] == list("abcdefghij")
    d = data["conversations"][3]
    assert d["verdict"] == "tp" and d["problems"] == ["wrong_trigger"] and d["trigger_correct"] is False
    assert d["scores"][1] == {"sentiment": 0.91, "intent_confidence": 0.5}
    assert d["fired"] == {"sentiment": [2], "intent_confidence": [3]}
    assert d["expected"] == {"escalate": True, "turn": 2, "trigger": "intent_confidence"}


# Edge cases: a rate whose denominator is zero is None, never a made-up 0 or 1.


def test_no_outcomes_gives_no_rates() -> None:
    report = compute([])
    rates = (report.precision, report.recall, report.f1, report.on_time_rate, report.trigger_accuracy)
    assert rates == (None, None, None, None, None)
    assert report.escalation_rate is None
    assert "n/a" in format_report(report)


def test_only_negatives_all_quiet() -> None:
    report = compute([Outcome("i", NO, False), Outcome("j", NO, False)])
    assert (report.precision, report.recall, report.f1, report.on_time_rate) == (None, None, None, None)
    assert report.escalation_rate == 0.0


def test_positives_none_caught() -> None:
    report = compute([Outcome("f", escalate(1, "sentiment"), False), Outcome("i", NO, False)])
    assert report.precision is None  # nothing escalated: precision is undefined
    assert report.recall == 0.0
    assert report.f1 == 0.0  # 0 / (0 + 0 + 1): defined, and as bad as it gets
    assert report.on_time_rate == 0.0
    assert report.on_time_caught is None
    assert report.trigger_accuracy is None


def test_only_false_escalations() -> None:
    report = compute([Outcome("h", NO, True, 1, "sentiment")])
    assert (report.precision, report.recall, report.f1) == (0.0, None, 0.0)


def test_outcomes_must_be_consistent_and_unique() -> None:
    with pytest.raises(ValueError, match="needs its customer turn"):
        Outcome("x", NO, True)
    with pytest.raises(ValueError, match="must be None"):
        Outcome("x", NO, False, turn=2)
    with pytest.raises(ValueError, match="duplicate outcome ids: a"):
        compute([TEN[0], TEN[0]])
    with pytest.raises(ValueError, match="tolerance"):
        compute(TEN, tolerance=-1)


def test_format_report_shows_rates_detectors_and_the_wrong_conversations_scores() -> None:
    text = format_report(compute(TEN, tolerance=1))
    rows = [" ".join(row.split()) for row in text.splitlines()]  # compare words, not column widths

    assert "precision 0.833 5/6 escalations were expected" in rows
    assert "recall 0.714 5/7 expected escalations happened" in rows
    assert "f1 0.769" in rows
    assert "on time (±1) 0.571 4/7; early 1, late 0, missed 2" in rows
    assert "trigger accuracy 0.750 3/4" in rows
    assert "escalation rate 0.600 6/10 conversations" in rows
    assert "sentiment 4 4 1 3" in rows
    assert "Wrong conversations: 5 (* = fired)" in rows
    assert "h [false_escalation] expected no escalation; got turn 1 by explicit_request" in rows
    # d's score table marks the turns each detector fired on.
    d = rows.index("d [wrong_trigger] expected turn 2 by intent_confidence; got turn 2 by sentiment")
    assert rows[d + 1 : d + 5] == ["turn sentiment intent_confidence", "1 0.30 0.40", "2 0.91* 0.50", "3 0.20 0.80*"]
    # Conversations the replay got right are not listed.
    assert not any(row.startswith(("a ", "c ", "e ", "i ", "j ")) for row in rows)


def decision(sentiment: float, explicit: float, trigger: str | None = None) -> Decision:
    signals = (
        Signal("sentiment", sentiment, 0.6, sentiment >= 0.6, "upset"),
        Signal("explicit_request", explicit, 0.5, explicit >= 0.5, "asked for a person"),
    )
    return Decision(escalate=trigger is not None, trigger=trigger, reasons=(), signals=signals)


def test_outcome_from_decisions_takes_the_first_escalation_and_keeps_every_turns_scores() -> None:
    decisions = [decision(0.2, 0.1), decision(0.7, 0.2, "sentiment"), decision(0.9, 0.8, "explicit_request")]

    outcome = outcome_from_decisions("x", escalate(2, "sentiment"), decisions)

    assert (outcome.escalated, outcome.turn, outcome.trigger) == (True, 2, "sentiment")
    assert outcome.fired == {"sentiment": [2, 3], "explicit_request": [3]}
    assert outcome.scores == [
        {"sentiment": 0.2, "explicit_request": 0.1},
        {"sentiment": 0.7, "explicit_request": 0.2},
        {"sentiment": 0.9, "explicit_request": 0.8},
    ]
    assert judge(outcome).problems == ()


def test_outcome_from_quiet_decisions_did_not_escalate() -> None:
    outcome = outcome_from_decisions("y", NO, [decision(0.1, 0.1), decision(0.3, 0.2)])

    assert (outcome.escalated, outcome.turn, outcome.trigger) == (False, None, None)
    assert outcome.fired == {"sentiment": [], "explicit_request": []}
    assert judge(outcome).verdict == "tn"


def test_results_are_broken_down_by_category() -> None:
    outcomes = [
        Outcome("a", escalate(2), True, 2, "sentiment", category="anger"),
        Outcome("b", escalate(1), True, 3, "sentiment", category="anger"),
        Outcome("c", escalate(1), False, category="anger"),
        Outcome("d", NO, True, 1, "sentiment", category="routine"),
        Outcome("e", NO, False, category="routine"),
        Outcome("f", NO, False),
    ]
    categories = compute(outcomes).by_category()
    anger, routine = categories["anger"], categories["routine"]
    assert (anger.caught, anger.on_time, anger.late, anger.missed, anger.positives) == (2, 1, 1, 1, 3)
    assert anger.caught_rate == pytest.approx(2 / 3) and anger.false_rate is None
    assert (routine.false, routine.negatives, routine.false_rate) == (1, 2, 0.5)
    assert not anger.meets(caught=0.85, false=0.1) and categories["(none)"].meets(caught=0.85, false=0.1)
    text = format_report(compute(outcomes))
    assert "anger" in text and "2/3" in text and "1/2" in text
    assert compute(outcomes).to_json()["categories"]["routine"]["false"] == 1
