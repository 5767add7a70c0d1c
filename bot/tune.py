"""`escalator tune`: search the detectors' thresholds on replayed labelled conversations.

Every customer turn is analysed once (the Replayer's job), so one replay under new thresholds costs only the
detectors and the policy: milliseconds. The search is coordinate descent from the thresholds in force: sweep one
field over its grid while holding the others, keep the best value, move to the next field, and repeat until a
whole round changes nothing. That final round is, by construction, each field's 1-D sweep around the chosen
thresholds, which the report plots. A full cartesian grid of seven fields would need millions of replays.

Candidates are ranked by an `Objective` ("f1", "recall@precision>=0.9", ...); ties go to the higher F1, then the
better on-time rate, then the better trigger accuracy, then fewer escalations, then the thresholds closest to the
current ones (a small, explainable change). Switching a detector off is accepted only when it improves the
objective itself.

Outputs (in the output directory): suggested.toml, tune.json, report.html, precision_recall.png and one
thresholds_<section>_<field>.png per swept field.
"""

from __future__ import annotations

import html
import json
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol, Sequence

from pydantic import BaseModel, ValidationError

from detectors.thresholds import Thresholds
from detectors.tuning.conversations import LabelledConversation, read_conversations
from detectors.tuning.metrics import ConversationResult, Outcome, Report, compute

if TYPE_CHECKING:
    from bot.settings import Settings

Value = bool | int | float


class ReplaysConversations(Protocol):
    """What the search needs from a replayer: the outcomes of every conversation under some thresholds."""

    def replay(self, thresholds: Thresholds) -> list[Outcome]: ...


# --- Figures and objectives -------------------------------------------------------------------------------


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
_OBJECTIVE = re.compile(
    r"^\s*(?P<goal>\w+)\s*(?:@\s*(?P<metric>\w+)\s*(?P<op>>=|<=)\s*(?P<limit>\d*\.?\d+)\s*)?$"
)


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


# --- The search space -------------------------------------------------------------------------------------


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
        return getattr(getattr(thresholds, self.section), self.field)

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


# --- Coordinate descent -----------------------------------------------------------------------------------


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

    def __init__(self, replayer: ReplaysConversations, tolerance: int, current: Thresholds, knobs: Sequence[Knob],
                 on_replay: Callable[[], None]) -> None:
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


# --- run_tune: search, then write the files -------------------------------------------------------------

HOLDOUT_SHARE = 0.3  # of the conversations kept out of the search, to show what the fit is worth elsewhere
HOLDOUT_SEED = 20261203
# Fewer conversations that should not escalate than this, and the search lowers thresholds it cannot see the cost
# of. Measured (docs/tuning.md): thresholds tuned on the store's escalating train conversations plus N of its calm
# ones escalated this share of the dev split's calm conversations: N=10 55%, 30 42-55%, 60 22-39%, 100 15-21%, 200 10%.
MIN_CALM_CONVERSATIONS = 200
# A change whose effect on the search set comes down to this many conversations or fewer is flagged as fragile.
FRAGILE_CONVERSATIONS = 2




def run_tune(
    conversations_path: Path,
    settings: Settings,
    objective: str,
    out_dir: Path,
    tolerance: int = 1,
    progress: bool = True,
    replayer: ReplaysConversations | None = None,
    floors: str | None = None,
    holdout: Path | float | None = HOLDOUT_SHARE,
    freeze: Sequence[str] = (),
) -> dict[str, Any]:
    """Search thresholds for `objective` on the labelled conversations; write the report files into out_dir.

    `freeze` names sections ("explicit_request") or fields ("sentiment.trend") the search leaves as they are.
    `holdout` keeps conversations apart from the search and reports the figures on them beside the fitted ones:
    a file of other labelled conversations, or a share of these (drawn within each category, with a fixed seed);
    0 or None searches on everything. Without a replayer, the offline pipeline is built from `settings` and every
    customer turn analysed once. Returns (and writes to tune.json) the current and best figures, held-out figures,
    warnings, the best thresholds, what changed, the top candidates, the sweeps and the paths of the files.
    """
    goal = Objective.parse(objective).with_floors(CategoryFloors.parse(floors) if floors else None)
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 customer turns, got {tolerance}")
    conversations = read_conversations(conversations_path)
    if isinstance(holdout, Path):
        tuning, held = conversations, read_conversations(holdout)
    else:
        tuning, held = split_holdout(conversations, float(holdout or 0.0))
    with _progress_bar(progress, "analysing messages", _message_count([*tuning, *held])) as bar:
        if replayer is None:
            from bot.offline import build_offline_pipeline
            from bot.replay import Replayer

            replayer = Replayer(build_offline_pipeline(settings), [*tuning, *held], on_analysed=bar.update)
    search_replayer = _subset(replayer, tuning)
    current = settings.detectors

    started = time.perf_counter()
    knobs = tuple(k for k in search_space(current) if k.section not in freeze and k.key not in freeze)
    with _progress_bar(progress, "tuning", sum(len(k.values) for k in knobs) * 2, unit=" replays") as bar:
        result = search(search_replayer, current, goal, tolerance=tolerance, knobs=knobs, on_replay=lambda: bar.update(1))
    seconds = time.perf_counter() - started
    best_report = compute(search_replayer.replay(result.best.thresholds), tolerance)

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"suggested": out_dir / "suggested.toml", "json": out_dir / "tune.json", "html": out_dir / "report.html",
             "precision_recall": out_dir / "precision_recall.png"}
    numeric = [knob for knob in result.knobs if not knob.is_switch]
    curves = {knob.key: out_dir / f"thresholds_{knob.section}_{knob.field}.png" for knob in numeric}

    summary = _summary(result, best_report, tolerance, seconds, len(tuning))
    if held:
        held_replayer = _subset(replayer, held)
        summary["held_out"] = {
            "conversations": len(held),
            "source": str(holdout) if isinstance(holdout, Path) else f"{float(holdout or 0):g} of the file, by category",
            "current": Figures.of(compute(held_replayer.replay(current), tolerance)).to_json(),
            "best": Figures.of(compute(held_replayer.replay(result.best.thresholds), tolerance)).to_json(),
        }
    summary["warnings"] = warnings_for(result, search_replayer, tuning, tolerance)
    summary["paths"] = {**{name: str(path) for name, path in paths.items()},
                        "thresholds": {key: str(path) for key, path in curves.items()}}
    paths["suggested"].write_text(suggested_toml(result, summary["warnings"]), encoding="utf-8")
    _plot_precision_recall(result, paths["precision_recall"])
    for knob in numeric:
        _plot_sweep(result, knob, curves[knob.key])
    paths["html"].write_text(
        report_html(summary, result, best_report, tuning, {k: p.name for k, p in curves.items()}),
        encoding="utf-8",
    )
    paths["json"].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def split_holdout(
    conversations: Sequence[LabelledConversation], share: float, seed: int = HOLDOUT_SEED
) -> tuple[list[LabelledConversation], list[LabelledConversation]]:
    """(tuning, held out): `share` of each category (or, uncategorised, of each label) held out, by a fixed seed."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"the held-out share must be at least 0 and below 1, got {share}")
    if share == 0.0:
        return list(conversations), []
    import random

    groups: dict[str, list[LabelledConversation]] = {}
    for conversation in conversations:
        key = conversation.category or ("escalate" if conversation.expected.escalate else "no escalation")
        groups.setdefault(key, []).append(conversation)
    rng = random.Random(seed)
    held_ids: set[str] = set()
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda c: c.id)
        rng.shuffle(members)
        held_ids |= {c.id for c in members[: int(round(share * len(members)))]}
    return [c for c in conversations if c.id not in held_ids], [c for c in conversations if c.id in held_ids]


def warnings_for(
    result: SearchResult, replayer: ReplaysConversations, conversations: Sequence[LabelledConversation], tolerance: int
) -> list[str]:
    """What the user must know before adopting the suggestion: too few calm conversations to measure false
    escalations, and changes whose whole effect comes down to one or two conversations."""
    found = []
    calm = sum(not c.expected.escalate for c in conversations)
    if calm < MIN_CALM_CONVERSATIONS:
        found.append(
            f"Only {calm} of the {len(conversations)} conversations should not escalate: with fewer than "
            f"{MIN_CALM_CONVERSATIONS}, the search lowers thresholds it cannot see the cost of (tuned with 100, the "
            "store's thresholds escalated 15-21% of calm conversations elsewhere; with 200, 10%). Add ordinary "
            "conversations (routine questions, problem reports, thanks) before adopting these thresholds."
        )
    best = result.best.thresholds
    verdicts = _verdicts(replayer, best, tolerance)
    for knob in result.knobs:
        old = knob.get(result.current.thresholds)
        if knob.get(best) == old:
            continue
        reverted = knob.set(best, old)
        if reverted is None:
            continue
        differing = [cid for cid, verdict in _verdicts(replayer, reverted, tolerance).items() if verdicts[cid] != verdict]
        if len(differing) <= FRAGILE_CONVERSATIONS:
            found.append(
                f"{knob.key} {_value(old)} -> {_value(knob.get(best))} rests on {len(differing)} conversation"
                f"{'' if len(differing) == 1 else 's'} ({', '.join(differing) or 'none'}): keep the old value "
                "unless you have more conversations like them."
            )
    return found


def _verdicts(replayer: ReplaysConversations, thresholds: Thresholds, tolerance: int) -> dict[str, tuple[str, str | None]]:
    return {r.outcome.id: (r.verdict, r.timing) for r in compute(replayer.replay(thresholds), tolerance).results}


def _subset(replayer: ReplaysConversations, conversations: Sequence[LabelledConversation]) -> ReplaysConversations:
    subset = getattr(replayer, "subset", None)
    return subset(conversations) if subset is not None else replayer


def _message_count(conversations: Sequence[LabelledConversation]) -> int:
    return len({t.text for c in conversations for t in c.turns if t.role == "customer"})


class _NoBar:
    def update(self, count: int = 1) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _progress_bar(enabled: bool, description: str, total: int, unit: str = " messages") -> Any:
    """A bar with a total (the replays of a search are bounded by the values of two rounds; it may end early)."""
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(desc=description, total=total, unit=unit, file=sys.stderr, leave=False)


def _summary(result: SearchResult, best_report: Report, tolerance: int, seconds: float, count: int) -> dict[str, Any]:
    objective = result.objective

    def figures(candidate: Candidate) -> dict[str, Any]:
        return {**candidate.figures.to_json(), "objective": objective.value(candidate.figures),
                "feasible": objective.feasible(candidate.figures)}

    return {
        "objective": str(objective),
        "tolerance": tolerance,
        "conversations": count,
        "replays": result.replays,
        "rounds": result.rounds,
        "seconds": round(seconds, 3),
        "ms_per_replay": round(1000 * seconds / max(result.replays, 1), 2),
        "current": figures(result.current),
        "best": figures(result.best),
        "current_thresholds": result.current.thresholds.model_dump(),
        "best_thresholds": result.best.thresholds.model_dump(),
        "changed": changes(result.knobs, result.current.thresholds, result.best.thresholds),
        "top": [{**figures(c), "changes": changes(result.knobs, result.current.thresholds, c.thresholds)}
                for c in top_candidates(result)],
        "sweeps": {key: [{"value": p.value, **p.figures.to_json()} for p in points]
                   for key, points in result.sweeps.items()},
        "wrong": [r.to_json() for r in best_report.wrong],
    }


def top_candidates(result: SearchResult, count: int = 5) -> list[Candidate]:
    """The best candidates with distinct figures (a plateau of equal results shows once, nearest to current)."""
    chosen: list[Candidate] = []
    seen: set[Figures] = set()
    for candidate in result.ranked():
        if candidate.figures not in seen:
            seen.add(candidate.figures)
            chosen.append(candidate)
        if len(chosen) == count:
            break
    return chosen


# --- suggested.toml ----------------------------------------------------------------------------------------


def suggested_toml(result: SearchResult, warnings: Sequence[str] = ()) -> str:
    """Every detector section with the best thresholds; changed lines say what they were."""
    old, new = result.current.thresholds, result.best.thresholds
    current, best = result.current.figures, result.best.figures
    lines = [
        f"# Suggested by `escalator tune` for the objective {result.objective}.",
        f"# current:   {_figures_line(current)}",
        f"# suggested: {_figures_line(best)}",
        "# These sections replace the [detectors.*] sections of your configuration file.",
        *(f"# WARNING: {warning}" for warning in warnings),
    ]
    for section in Thresholds.model_fields:
        lines += ["", f"[detectors.{section}]"]
        was = getattr(old, section).model_dump()
        for field, value in getattr(new, section).model_dump().items():
            note = "" if was[field] == value else f"  # was {_toml_value(was[field])}"
            lines.append(f"{field} = {_toml_value(value)}{note}")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float; TOML accepts it
    raise TypeError(f"cannot write {type(value).__name__} as a threshold")


def _figures_line(figures: Figures) -> str:
    names = ("precision", "recall", "f1", "on_time", "trigger_accuracy", "escalation_rate")
    return ", ".join(f"{name} {_rate(getattr(figures, METRICS[name]))}" for name in names)


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


# --- Text table for the terminal ---------------------------------------------------------------------------

_COLUMNS = (("precision", "precision"), ("recall", "recall"), ("f1", "f1"), ("on time", "on_time_rate"),
            ("trigger", "trigger_accuracy"), ("esc.rate", "escalation_rate"))


def format_tradeoff(result: Mapping[str, Any]) -> str:
    """Current vs best, the top candidates and what changed, as a short table (from run_tune's result)."""
    header = f"{'':<10}" + "".join(f"{title:>10}" for title, _ in _COLUMNS) + f"{'objective':>11}"

    def row(label: str, figures: Mapping[str, Any]) -> str:
        cells = "".join(f"{_rate(figures[key]):>10}" for _, key in _COLUMNS)
        mark = "" if figures["feasible"] else " (bound not met)"
        return f"{label:<10}{cells}{_rate(figures['objective']):>11}{mark}"

    lines = [
        f"objective {result['objective']}: {result['replays']} replays of {result['conversations']} conversations "
        f"in {result['seconds']:.1f} s ({result['ms_per_replay']:.0f} ms each), tolerance ±{result['tolerance']}",
        "",
        header,
        row("current", result["current"]),
        row("best", result["best"]),
    ]
    held = result.get("held_out")
    if held:
        plain = {"feasible": True, "objective": None}
        lines += [
            f"held out ({held['conversations']} conversations the search never saw, {held['source']}):",
            row("  current", {**plain, **held["current"]}),
            row("  best", {**plain, **held["best"]}),
        ]
    lines += [
        "",
        "changed: " + (_describe_changes(result["changed"]) or "nothing (the current thresholds are already best)"),
        "",
        "top candidates:",
    ]
    for number, candidate in enumerate(result["top"], start=1):
        lines.append(row(f"  {number}", candidate))
        lines.append(f"{'':<12}{_describe_changes(candidate['changes']) or 'the current thresholds'}")
    for warning in result.get("warnings", ()):
        lines += ["", f"WARNING: {warning}"]
    return "\n".join(lines)


def _describe_changes(changed: Mapping[str, Mapping[str, Value]]) -> str:
    return ", ".join(f"{key} {_value(c['old'])} -> {_value(c['new'])}" for key, c in changed.items())


def _value(value: Value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}"


# --- Figures (matplotlib, Agg, no pyplot: no global state, safe in any thread) -----------------------------


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _plot_precision_recall(result: SearchResult, path: Path) -> None:
    figure = _new_figure(6.4, 5.2)
    axes = figure.add_subplot()
    points = sorted({(_nan(c.figures.recall), _nan(c.figures.precision)) for c in result.candidates})
    axes.scatter([r for r, _ in points], [p for _, p in points], s=14, color="#9aa5b1", label="candidates")
    frontier = _pareto(points)
    axes.plot([r for r, _ in frontier], [p for _, p in frontier], color="#52606d", linewidth=1, label="best trade-offs")
    for candidate, label, style in ((result.current, "current", dict(marker="X", color="#d64545", s=110)),
                                    (result.best, "chosen", dict(marker="*", color="#2f8132", s=220))):
        axes.scatter([_nan(candidate.figures.recall)], [_nan(candidate.figures.precision)], label=label, zorder=3,
                     **style)
    bound = result.objective.constraint
    if bound is not None and bound.metric == "precision":
        axes.axhline(bound.limit, color="#f0b429", linestyle="--", label=f"precision {bound.op} {bound.limit:g}")
    if bound is not None and bound.metric == "recall":
        axes.axvline(bound.limit, color="#f0b429", linestyle="--", label=f"recall {bound.op} {bound.limit:g}")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02),
             title=f"Precision-recall of {len(result.candidates)} candidates ({result.objective})")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize="small")
    figure.savefig(path, format="png")


def _pareto(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point beats on both recall and precision, by recall."""
    finite = [(r, p) for r, p in points if not (math.isnan(r) or math.isnan(p))]
    front = []
    for recall, precision in sorted(finite, key=lambda rp: (-rp[0], -rp[1])):
        if not front or precision > front[-1][1]:
            front.append((recall, precision))
    return sorted(front)


def _plot_sweep(result: SearchResult, knob: Knob, path: Path) -> None:
    points = result.sweeps[knob.key]
    figure = _new_figure(6.4, 3.8)
    axes = figure.add_subplot()
    values = [float(p.value) for p in points]
    # Recall and on-time often coincide; recall is drawn last, thick and dashed, so it is never hidden.
    for name, attribute, color, style in (("on time", "on_time_rate", "#9aa5b1", dict(linestyle=":", linewidth=1.5)),
                                          ("F1", "f1", "#2f8132", dict(linewidth=1.5)),
                                          ("precision", "precision", "#2680c2", dict(linewidth=1.5)),
                                          ("recall", "recall", "#d64545", dict(linestyle="--", linewidth=2.5))):
        axes.plot(values, [_nan(getattr(p.figures, attribute)) for p in points], marker=".", label=name, color=color,
                  **style)
    axes.axvline(float(knob.get(result.current.thresholds)), color="#d64545", linestyle=":", label="current")
    axes.axvline(float(knob.get(result.best.thresholds)), color="#2f8132", linestyle="--", label="chosen")
    axes.set(xlabel=knob.key, ylabel="rate", ylim=(-0.02, 1.02), title=f"{knob.key}, others at the chosen values")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize="small", ncols=3)
    figure.savefig(path, format="png")


# --- report.html -------------------------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1f2933}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:.2em .7em;border-bottom:1px solid #d9e2ec;
text-align:right}th:first-child,td:first-child{text-align:left}td.text{text-align:left}
tr.chosen{background:#e3f9e5}tr.changed td{font-weight:600}img{max-width:100%}
code{background:#f0f4f8;padding:0 .2em}.bad{color:#ab091e}
"""


def report_html(
    summary: Mapping[str, Any],
    result: SearchResult,
    best_report: Report,
    conversations: Sequence[LabelledConversation],
    curve_files: Mapping[str, str],
) -> str:
    """A self-contained page; every piece of text from data goes through html.escape."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(title)}</td><td>{_rate(summary['current'][key])}</td><td>{_rate(summary['best'][key])}</td></tr>"
        for title, key in (*_COLUMNS, ("objective", "objective"))
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>escalator tune: {e(summary['objective'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Threshold tuning: <code>{e(summary['objective'])}</code></h1>",
        f"<p>{summary['conversations']} labelled conversations, tolerance ±{summary['tolerance']} turns; "
        f"{summary['replays']} replays in {summary['rounds']} rounds of coordinate descent, {summary['seconds']:.1f} s."
        + ("" if summary["best"]["feasible"] else " <strong class='bad'>No candidate meets the bound; the chosen "
           "thresholds are the nearest to it.</strong>") + "</p>",
        "<p>Thresholds chosen on these conversations fit these conversations: confirm them on other labelled "
        "conversations (<code>escalator evaluate</code>) before adopting them.</p>",
        *(f"<p class='bad'><strong>Warning:</strong> {e(w)}</p>" for w in summary.get("warnings", ())),
        "<h2>Current vs best</h2><table><tr><th>metric</th><th>current</th><th>best</th></tr>", rows, "</table>",
        _held_out_html(summary.get("held_out")),
        "<h2>Chosen thresholds</h2>", _thresholds_table(result),
        "<h2>Precision-recall trade-off</h2>",
        f"<img src='{e(Path(summary['paths']['precision_recall']).name)}' alt='precision against recall of every "
        "candidate, current and chosen marked'>",
        "<h2>One threshold at a time</h2><p>Each field swept with the others held at the chosen values.</p>",
    ]
    for knob in result.knobs:
        parts.append(f"<h3><code>{e(knob.key)}</code></h3>")
        if knob.key in curve_files:
            parts.append(f"<img src='{e(curve_files[knob.key])}' alt='precision, recall and F1 against {e(knob.key)}'>")
        parts.append(_sweep_table(result, knob))
    parts.append(_wrong_section(best_report, conversations))
    parts.append("</body></html>")
    return "\n".join(parts)


def _held_out_html(held: Mapping[str, Any] | None) -> str:
    if not held:
        return "<p class='bad'>Nothing was held out: these figures are on the conversations the thresholds were fitted to.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(title)}</td><td>{_rate(held['current'][key])}</td><td>{_rate(held['best'][key])}</td></tr>"
        for title, key in _COLUMNS
    )
    return (f"<h2>Held out: {held['conversations']} conversations the search never saw ({html.escape(held['source'])})"
            "</h2><p>What the suggestion is worth on conversations it was not fitted to.</p>"
            "<table><tr><th>metric</th><th>current</th><th>best</th></tr>" + rows + "</table>")


def _thresholds_table(result: SearchResult) -> str:
    e = html.escape
    rows = []
    for knob in result.knobs:
        old, new = knob.get(result.current.thresholds), knob.get(result.best.thresholds)
        css = " class='changed'" if old != new else ""
        arrow = f"{_value(old)} → {_value(new)}" if old != new else _value(new)
        rows.append(f"<tr{css}><td><code>{e(knob.key)}</code></td><td>{e(arrow)}</td></tr>")
    return "<table><tr><th>field</th><th>old → new</th></tr>" + "".join(rows) + "</table>"


def _sweep_table(result: SearchResult, knob: Knob) -> str:
    chosen = knob.get(result.best.thresholds)
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in _COLUMNS)
    rows = []
    for point in result.sweeps[knob.key]:
        css = " class='chosen'" if point.value == chosen and type(point.value) is type(chosen) else ""
        cells = "".join(f"<td>{_rate(getattr(point.figures, attribute))}</td>" for _, attribute in _COLUMNS)
        objective = _rate(result.objective.value(point.figures)) + ("" if result.objective.feasible(point.figures)
                                                                    else " ✗")
        rows.append(f"<tr{css}><td>{html.escape(_value(point.value))}</td>{cells}<td>{objective}</td></tr>")
    return f"<table><tr><th>value</th>{head}<th>objective</th></tr>" + "".join(rows) + "</table>"


def _wrong_section(report: Report, conversations: Sequence[LabelledConversation]) -> str:
    e = html.escape
    wrong = report.wrong
    texts = {c.id: c.customer_texts for c in conversations}
    parts = [f"<h2>Still wrong under the chosen thresholds: {len(wrong)}</h2>"]
    if not wrong:
        return parts[0] + "<p>None.</p>"
    parts.append("<table><tr><th>conversation</th><th>problems</th><th>expected</th><th>got</th>"
                 "<th>customer turns (scores; * fired)</th></tr>")
    for result in wrong:
        outcome = result.outcome
        parts.append(
            f"<tr><td class='text'>{e(outcome.id)}</td><td class='text'>{e(', '.join(result.problems))}</td>"
            f"<td class='text'>{e(_expected_text(result))}</td><td class='text'>{e(_got_text(result))}</td>"
            f"<td class='text'><ol>{_turns_html(result, texts.get(outcome.id, ()))}</ol></td></tr>"
        )
    return "".join(parts) + "</table>"


def _expected_text(result: ConversationResult) -> str:
    expected = result.outcome.expected
    if not expected.escalate:
        return "no escalation"
    return f"turn {expected.turn} by {expected.trigger or 'any detector'}"


def _got_text(result: ConversationResult) -> str:
    outcome = result.outcome
    return f"turn {outcome.turn} by {outcome.trigger}" if outcome.escalated else "no escalation"


def _turns_html(result: ConversationResult, texts: Sequence[str]) -> str:
    outcome = result.outcome
    items = []
    for number in range(1, max(len(texts), len(outcome.scores)) + 1):
        text = texts[number - 1] if number <= len(texts) else ""
        scores = outcome.scores[number - 1] if number <= len(outcome.scores) else {}
        fired = {name for name, turns in outcome.fired.items() if number in turns}
        detail = ", ".join(f"{name} {score:.2f}{'*' if name in fired else ''}" for name, score in scores.items())
        items.append(f"<li>{html.escape(text)}<br><small>{html.escape(detail)}</small></li>")
    return "".join(items)
