"""The search over thresholds: coordinate descent from the thresholds in force.

Every customer turn is analysed once (the replayer's job), so one replay under new thresholds costs only the
detectors and the policy: milliseconds. The search sweeps one field over its grid while holding the others, keeps
the best value, moves to the next field, and repeats until a whole round changes nothing. That final round is, by
construction, each field's 1-D sweep around the chosen thresholds, which the report plots. A full cartesian grid of
the fields would need millions of replays.

Candidates are ranked by an `Objective`; ties go to the higher F1, then the better on-time rate, then the better
trigger accuracy, then fewer escalations, then the thresholds closest to the current ones (a small, explainable
change). Switching a detector off is accepted only when it improves the objective itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ValidationError

from detectors.thresholds import Thresholds
from detectors.tuning.metrics import Outcome, compute
from detectors.tuning.objective import Figures, Objective

Value = bool | int | float


class ReplaysConversations(Protocol):
    """What the search needs from a replayer: the outcomes of every conversation under some thresholds."""

    def replay(self, thresholds: Thresholds) -> list[Outcome]: ...


def _grid(start: float, stop: float, step: float) -> tuple[float, ...]:
    count = int(round((stop - start) / step))
    return tuple(round(start + i * step, 4) for i in range(count + 1))


# The fields that decide whether a detector fires, with the values worth trying. Values outside the schema's
# bounds are dropped, and the current value is always added, so the search starts on its own grid.
GRIDS: dict[tuple[str, str], tuple[Value, ...]] = {
    ("sentiment", "message"): _grid(0.3, 0.975, 0.025) + (0.99,),
    ("sentiment", "trend"): _grid(0.2, 0.95, 0.025),
    ("sentiment", "min_turns"): (1, 2, 3),
    ("intent_confidence", "out_of_scope"): _grid(0.2, 0.95, 0.025),
    ("intent_confidence", "consecutive"): (1, 2, 3, 4),
    ("intent_confidence", "margin"): _grid(0.0, 0.2, 0.025),
    ("explicit_request", "threshold"): _grid(0.05, 0.975, 0.025) + (0.99,),
    ("explicit_request", "with_phrase"): _grid(0.0, 0.5, 0.05),
    ("pattern_similarity", "threshold"): _grid(0.4, 0.95, 0.025),
    ("pattern_similarity", "case_type"): _grid(0.5, 0.95, 0.025),
    ("stuck", "sign"): _grid(0.3, 0.95, 0.05),
    ("stuck", "restated"): _grid(0.6, 0.95, 0.05),
    ("stuck", "signs"): (1, 2, 3),
    ("language", "confidence"): _grid(0.3, 0.95, 0.05),
    ("language", "consecutive"): (1, 2, 3),
}


@dataclass(frozen=True, slots=True)
class Knob:
    """One field of one detector's section, and the values the search may give it."""

    section: str
    field: str
    values: tuple[Value, ...]

    @property
    def key(self) -> str:
        return f"{self.section}.{self.field}"

    @property
    def is_switch(self) -> bool:
        return self.field == "enabled"

    def get(self, thresholds: Thresholds) -> Value:
        value: Value = getattr(getattr(thresholds, self.section), self.field)  # every knob names a bool or number field
        return value

    def set(self, thresholds: Thresholds, value: Value) -> Thresholds | None:
        """The thresholds with this field changed, validated by the schema; None when the schema refuses it."""
        data = thresholds.model_dump()
        data[self.section][self.field] = value
        try:
            return Thresholds.model_validate(data)
        except ValidationError:
            return None

    def distance(self, a: Thresholds, b: Thresholds) -> float:
        """How far apart two thresholds are on this field, as a share of the grid's span (a switch counts 1)."""
        x, y = self.get(a), self.get(b)
        if self.is_switch:
            return float(x != y)
        span = max(self.values) - min(self.values)
        return abs(float(x) - float(y)) / span if span else float(x != y)


def search_space(current: Thresholds, grids: Mapping[tuple[str, str], Sequence[Value]] = GRIDS) -> tuple[Knob, ...]:
    """The knobs to turn: each grid clipped to the schema's bounds, then each detector's on/off switch."""
    knobs: list[Knob] = []
    for section in Thresholds.model_fields:
        model = getattr(current, section)
        for (grid_section, field), grid in grids.items():
            if grid_section != section or field not in type(model).model_fields:
                continue  # a field a detector no longer has is not an error here: the schema is the truth
            low, high = _bounds(type(model), field)
            values = sorted({v for v in grid if low <= v <= high} | {getattr(model, field)})
            knobs.append(Knob(section, field, tuple(values)))
        knobs.append(Knob(section, "enabled", (True, False)))
    return tuple(knobs)


def _bounds(model: type[BaseModel], field: str) -> tuple[float, float]:
    """The inclusive range a numeric field accepts, read from its pydantic constraints."""
    low, high = -math.inf, math.inf
    for item in model.model_fields[field].metadata:
        if getattr(item, "ge", None) is not None:
            low = max(low, item.ge)
        if getattr(item, "gt", None) is not None:
            low = max(low, math.nextafter(item.gt, math.inf))
        if getattr(item, "le", None) is not None:
            high = min(high, item.le)
        if getattr(item, "lt", None) is not None:
            high = min(high, math.nextafter(item.lt, -math.inf))
    return low, high


@dataclass(frozen=True, slots=True)
class Candidate:
    thresholds: Thresholds
    figures: Figures
    distance: float  # from the current thresholds, summed over the knobs


@dataclass(frozen=True, slots=True)
class SweepPoint:
    value: Value
    figures: Figures


@dataclass(frozen=True, slots=True)
class SearchResult:
    objective: Objective
    knobs: tuple[Knob, ...]
    current: Candidate
    best: Candidate
    candidates: tuple[Candidate, ...]  # every distinct thresholds evaluated, in evaluation order
    sweeps: dict[str, tuple[SweepPoint, ...]]  # knob key -> that field swept around the best thresholds
    rounds: int
    replays: int

    def ranked(self) -> list[Candidate]:
        return sorted(self.candidates, key=lambda c: self.objective.rank(c.figures, c.distance), reverse=True)


class _Evaluations:
    """Replays on demand, each distinct set of thresholds once (coordinate descent revisits points often)."""

    def __init__(
        self,
        replayer: ReplaysConversations,
        tolerance: int,
        current: Thresholds,
        knobs: Sequence[Knob],
        on_replay: Callable[[], None],
    ) -> None:
        self.replayer = replayer
        self.tolerance = tolerance
        self.current = current
        self.knobs = knobs
        self.on_replay = on_replay
        self.seen: dict[str, Candidate] = {}

    def __call__(self, thresholds: Thresholds) -> Candidate:
        key = thresholds.model_dump_json()
        if key not in self.seen:
            figures = Figures.of(compute(self.replayer.replay(thresholds), self.tolerance))
            distance = sum(knob.distance(self.current, thresholds) for knob in self.knobs)
            self.seen[key] = Candidate(thresholds, figures, distance)
            self.on_replay()
        return self.seen[key]


def search(
    replayer: ReplaysConversations,
    current: Thresholds,
    objective: Objective,
    *,
    tolerance: int = 1,
    knobs: Sequence[Knob] | None = None,
    max_rounds: int = 6,
    on_replay: Callable[[], None] = lambda: None,
) -> SearchResult:
    """Coordinate descent from `current`: each round sweeps every knob once; stop when a round changes nothing."""
    knobs = tuple(knobs if knobs is not None else search_space(current))
    evaluate = _Evaluations(replayer, tolerance, current, knobs, on_replay)
    start = evaluate(current)
    best = start
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        moved = False
        for knob in knobs:
            choice = best
            for value in knob.values:
                thresholds = knob.set(best.thresholds, value)
                if thresholds is None:
                    continue
                candidate = evaluate(thresholds)
                if _better(objective, candidate, choice, switched_off=knob.is_switch and value is False):
                    choice = candidate
            if choice is not best:
                best, moved = choice, True
        if not moved:
            break
    sweeps = {knob.key: _sweep(evaluate, knob, best.thresholds) for knob in knobs}
    evaluated = tuple(evaluate.seen.values())
    return SearchResult(objective, knobs, start, best, evaluated, sweeps, rounds, replays=len(evaluated))


def _better(objective: Objective, candidate: Candidate, incumbent: Candidate, *, switched_off: bool) -> bool:
    if switched_off:  # a detector goes off only for a real gain, never for a tie-breaker
        return objective.primary(candidate.figures) > objective.primary(incumbent.figures)
    return objective.rank(candidate.figures, candidate.distance) > objective.rank(incumbent.figures, incumbent.distance)


def _sweep(evaluate: _Evaluations, knob: Knob, around: Thresholds) -> tuple[SweepPoint, ...]:
    points = []
    for value in knob.values:
        thresholds = knob.set(around, value)
        if thresholds is not None:
            points.append(SweepPoint(value, evaluate(thresholds).figures))
    return tuple(points)


def changes(knobs: Iterable[Knob], old: Thresholds, new: Thresholds) -> dict[str, dict[str, Value]]:
    """Knob key -> {"old", "new"} for every knob whose value differs."""
    return {k.key: {"old": k.get(old), "new": k.get(new)} for k in knobs if k.get(old) != k.get(new)}


def describe_value(value: Value) -> str:
    """A threshold as people read it: "on"/"off" for a switch, the number otherwise."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}"
