"""What a tuning search ranks candidates by: the figures of one replay, and the objective over them.

An objective is a goal to maximise ("f1"), optionally bound by another metric ("recall@precision>=0.9"), and
optionally held to per-category floors ("caught>=0.85,false<=0.1"): candidates with fewer categories below their
floor always rank first, so a search never buys the overall figure with one kind of conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from detectors.tuning.metrics import Report


@dataclass(frozen=True, slots=True)
class Figures:
    """The headline numbers of one replay; rates are None when their denominator is zero (as in the Report)."""

    precision: float | None
    recall: float | None
    f1: float | None
    on_time_rate: float | None
    trigger_accuracy: float | None
    escalation_rate: float | None
    escalated: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    # Per category: (name, share caught among those that should escalate, share escalated among those that should
    # not), None where a category has none of that kind.
    categories: tuple[tuple[str, float | None, float | None], ...] = ()

    @classmethod
    def of(cls, report: Report) -> Figures:
        return cls(
            precision=report.precision,
            recall=report.recall,
            f1=report.f1,
            on_time_rate=report.on_time_rate,
            trigger_accuracy=report.trigger_accuracy,
            escalation_rate=report.escalation_rate,
            escalated=report.escalated,
            tp=report.count("tp"),
            fp=report.count("fp"),
            fn=report.count("fn"),
            categories=tuple((name, c.caught_rate, c.false_rate) for name, c in report.by_category().items()),
        )

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__ if name != "categories"}
        data["categories"] = {name: {"caught": caught, "false": false} for name, caught, false in self.categories}
        return data


# Objective names -> Figures attributes. The goal is maximised; escalation_rate only makes sense as a bound.
METRICS: dict[str, str] = {
    "precision": "precision",
    "recall": "recall",
    "f1": "f1",
    "on_time": "on_time_rate",
    "trigger_accuracy": "trigger_accuracy",
    "escalation_rate": "escalation_rate",
}
GOALS: tuple[str, ...] = ("precision", "recall", "f1", "on_time", "trigger_accuracy")
OBJECTIVE_FORMS = (
    "<goal> or <goal>@<metric>>=<number> or <goal>@<metric><=<number>, "
    f"where goal is one of {', '.join(GOALS)} and metric one of {', '.join(METRICS)}, "
    "e.g. 'f1', 'recall@precision>=0.9', 'precision@recall>=0.95', 'on_time@precision>=0.9'"
)
_OBJECTIVE = re.compile(r"^\s*(?P<goal>\w+)\s*(?:@\s*(?P<metric>\w+)\s*(?P<op>>=|<=)\s*(?P<limit>\d*\.?\d+)\s*)?$")


class ObjectiveError(ValueError):
    """An objective string that is not one of the accepted forms."""


def metric(figures: Figures, name: str) -> float:
    """A metric by objective name; an undefined rate counts as 0 (nothing escalated has no precision to boast)."""
    value = getattr(figures, METRICS[name])
    return 0.0 if value is None else float(value)


@dataclass(frozen=True, slots=True)
class Constraint:
    metric: str
    op: str  # ">=" or "<="
    limit: float

    def shortfall(self, figures: Figures) -> float:
        """How far the figures are from meeting the bound; 0 when they meet it."""
        value = metric(figures, self.metric)
        return max(0.0, self.limit - value) if self.op == ">=" else max(0.0, value - self.limit)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.limit:g}"


@dataclass(frozen=True, slots=True)
class CategoryFloors:
    """Per-category floors: of each kind of conversation that should escalate, at least `caught` handed over;
    of each kind that should not, at most `false` handed over. A category meets the floor that applies to it."""

    caught: float | None = None
    false: float | None = None

    @classmethod
    def parse(cls, text: str) -> CategoryFloors:
        """'caught>=0.85,false<=0.1', either part optional."""
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = re.fullmatch(r"(caught)\s*>=\s*(\d*\.?\d+)|(false)\s*<=\s*(\d*\.?\d+)", part)
            if match is None:
                raise ObjectiveError(f"cannot read the floor {part!r}; write e.g. 'caught>=0.85,false<=0.1'")
            name, number = (match[1], match[2]) if match[1] else (match[3], match[4])
            values[name] = float(number)
            if not 0.0 <= values[name] <= 1.0:
                raise ObjectiveError(f"the floor {part!r} must be between 0 and 1")
        if not values:
            raise ObjectiveError("empty floors; write e.g. 'caught>=0.85,false<=0.1'")
        return cls(values.get("caught"), values.get("false"))

    def failing(self, figures: Figures) -> tuple[str, ...]:
        """The categories below their floor."""
        return tuple(
            name
            for name, caught, false in figures.categories
            if (self.caught is not None and caught is not None and caught < self.caught)
            or (self.false is not None and false is not None and false > self.false)
        )

    def shortfall(self, figures: Figures) -> float:
        """How far below their floors the failing categories are, summed."""
        total = 0.0
        for _, caught, false in figures.categories:
            if self.caught is not None and caught is not None:
                total += max(0.0, self.caught - caught)
            if self.false is not None and false is not None:
                total += max(0.0, false - self.false)
        return total

    def __str__(self) -> str:
        parts = ([f"caught>={self.caught:g}"] if self.caught is not None else []) + (
            [f"false<={self.false:g}"] if self.false is not None else []
        )
        return ",".join(parts)


@dataclass(frozen=True, slots=True)
class Objective:
    """Maximise `goal`, subject to an optional bound on another metric and optional per-category floors."""

    goal: str
    constraint: Constraint | None = None
    floors: CategoryFloors | None = None

    @classmethod
    def parse(cls, text: str) -> Objective:
        match = _OBJECTIVE.match(text)
        if match is None:
            raise ObjectiveError(f"cannot read objective {text!r}; accepted forms: {OBJECTIVE_FORMS}")
        goal, bound = match["goal"], match["metric"]
        if goal not in GOALS:
            raise ObjectiveError(f"unknown goal {goal!r} in {text!r}; accepted forms: {OBJECTIVE_FORMS}")
        if bound is None:
            return cls(goal)
        if bound not in METRICS:
            raise ObjectiveError(f"unknown metric {bound!r} in {text!r}; accepted forms: {OBJECTIVE_FORMS}")
        limit = float(match["limit"])
        if not 0.0 <= limit <= 1.0:
            raise ObjectiveError(f"the bound in {text!r} must be between 0 and 1, got {limit:g}")
        return cls(goal, Constraint(bound, match["op"], limit))

    def __str__(self) -> str:
        text = self.goal if self.constraint is None else f"{self.goal}@{self.constraint}"
        return text if self.floors is None else f"{text} with floors {self.floors}"

    def with_floors(self, floors: CategoryFloors | None) -> Objective:
        return Objective(self.goal, self.constraint, floors)

    def value(self, figures: Figures) -> float:
        return metric(figures, self.goal)

    def feasible(self, figures: Figures) -> bool:
        bound_met = self.constraint is None or self.constraint.shortfall(figures) == 0.0
        return bound_met and (self.floors is None or not self.floors.failing(figures))

    def primary(self, figures: Figures) -> tuple[float, ...]:
        """Fewest categories below their floors first, then feasible against the bound; among infeasible ones the
        nearest (so a search can walk towards it)."""
        failing = 0.0 if self.floors is None else float(len(self.floors.failing(figures)))
        below = 0.0 if self.floors is None else self.floors.shortfall(figures)
        shortfall = 0.0 if self.constraint is None else self.constraint.shortfall(figures)
        return (-failing, -below, float(shortfall == 0.0), -shortfall, self.value(figures))

    def rank(self, figures: Figures, distance: float = 0.0) -> tuple[float, ...]:
        """Bigger is better: the objective, then F1, on-time rate, right trigger, fewer escalations, then
        closeness to the current thresholds."""
        return (
            *self.primary(figures),
            metric(figures, "f1"),
            metric(figures, "on_time"),
            metric(figures, "trigger_accuracy"),
            -figures.escalated,
            -round(distance, 9),  # rounded: float noise in distances must not break ties between equals
        )
