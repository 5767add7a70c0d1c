"""Score a replay of labelled conversations against their labels. Pure arithmetic: no models, no files.

Per conversation (escalating at all):
    TP  expected to escalate and escalated        FP  not expected, escalated
    FN  expected, not escalated                   TN  not expected, not escalated

Timing of a TP compares its first escalating customer turn with the expected one:
on time within ±tolerance turns, early or late beyond it.

Rates and their denominators. A rate whose denominator is zero is None (null in JSON), never a made-up
0 or 1, so "nothing to measure" stays apart from "measured and bad":
    precision         TP / (TP + FP)
    recall            TP / (TP + FN)
    f1                2TP / (2TP + FP + FN): the harmonic mean of the two above when both are defined,
                      and None only when TP + FP + FN = 0
    on_time_rate      on-time TPs / (TP + FN): of the conversations that should escalate, the share
                      handed over at the right moment, so a miss counts against it like a late handoff
    on_time_caught    on-time TPs / TP: timing alone, among the handoffs that happened
    trigger_accuracy  TPs whose trigger matches / TPs whose label names a trigger
    escalation_rate   escalated / all conversations
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from detectors.tuning.conversations import TRIGGERS, Expected

if TYPE_CHECKING:  # only for annotations: keeps this module free of the models' imports
    from detectors.types import Decision

Verdict = Literal["tp", "fp", "fn", "tn"]
Timing = Literal["on_time", "early", "late"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the replay did with one labelled conversation."""

    id: str
    expected: Expected
    escalated: bool
    turn: int | None = None  # 1-based customer turn of the first escalation; None when it never escalated
    trigger: str | None = None  # the primary detector of that first escalation
    fired: Mapping[str, Sequence[int]] = field(default_factory=dict)  # detector -> customer turns it fired on
    scores: Sequence[Mapping[str, float]] = ()  # one {detector: score} per replayed customer turn
    category: str | None = None  # the labelled conversation's kind, for per-category results

    def __post_init__(self) -> None:
        if self.escalated and (self.turn is None or self.turn < 1):
            raise ValueError(f"{self.id}: an escalated outcome needs its customer turn >= 1, got {self.turn!r}")
        if not self.escalated and (self.turn is not None or self.trigger is not None):
            raise ValueError(f"{self.id}: turn and trigger must be None when the replay did not escalate")


@dataclass(frozen=True, slots=True)
class ConversationResult:
    """One outcome judged against its label."""

    outcome: Outcome
    verdict: Verdict
    timing: Timing | None  # TPs only
    offset: int | None  # TPs only: escalated turn minus expected turn (negative is early)
    trigger_correct: bool | None  # TPs whose label names a trigger only
    problems: tuple[str, ...]  # empty when the replay did what the label asks

    def to_json(self) -> dict[str, Any]:
        outcome = self.outcome
        return {
            "id": outcome.id,
            "category": outcome.category,
            "verdict": self.verdict,
            "problems": list(self.problems),
            "expected": outcome.expected.to_json(),
            "escalated": outcome.escalated,
            "turn": outcome.turn,
            "trigger": outcome.trigger,
            "timing": self.timing,
            "offset": self.offset,
            "trigger_correct": self.trigger_correct,
            "fired": {name: list(turns) for name, turns in outcome.fired.items()},
            "scores": [dict(turn) for turn in outcome.scores],
        }


@dataclass(frozen=True, slots=True)
class DetectorCounts:
    """How often one detector fired over the replay, whether or not it was the trigger."""

    conversations: int  # conversations where it fired at least once
    turns: int  # customer turns it fired on, summed over conversations
    negatives: int  # conversations labelled not to escalate where it fired: its false alarms
    triggers: int  # conversations where it was the primary trigger of the first escalation

    def to_json(self) -> dict[str, int]:
        return {
            "conversations": self.conversations,
            "turns": self.turns,
            "negatives": self.negatives,
            "triggers": self.triggers,
        }


@dataclass(frozen=True, slots=True)
class CategoryCounts:
    """What the replay did with one kind of conversation: of those that should escalate, how many were caught
    (on time, early or late) or missed; of those that should not, how many were escalated anyway."""

    conversations: int
    positives: int
    caught: int
    on_time: int
    early: int
    late: int
    missed: int
    false: int

    @property
    def negatives(self) -> int:
        return self.conversations - self.positives

    @property
    def caught_rate(self) -> float | None:
        return ratio(self.caught, self.positives)

    @property
    def false_rate(self) -> float | None:
        return ratio(self.false, self.negatives)

    def meets(self, caught: float, false: float) -> bool:
        """Whether this category holds both floors that apply to it (caught among positives, false among negatives)."""
        return (self.caught_rate is None or self.caught_rate >= caught) and (
            self.false_rate is None or self.false_rate <= false
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "positives": self.positives,
            "caught": self.caught,
            "on_time": self.on_time,
            "early": self.early,
            "late": self.late,
            "missed": self.missed,
            "false": self.false,
            "caught_rate": self.caught_rate,
            "false_rate": self.false_rate,
        }


UNCATEGORISED = "(none)"


@dataclass(frozen=True, slots=True)
class Report:
    """The metrics of one replay; every rate is a property over the judged conversations."""

    tolerance: int
    results: tuple[ConversationResult, ...]
    detectors: dict[str, DetectorCounts]

    def count(self, verdict: Verdict) -> int:
        return sum(result.verdict == verdict for result in self.results)

    def count_timing(self, timing: Timing) -> int:
        return sum(result.timing == timing for result in self.results)

    @property
    def positives(self) -> int:
        """Conversations labelled to escalate."""
        return self.count("tp") + self.count("fn")

    @property
    def escalated(self) -> int:
        return self.count("tp") + self.count("fp")

    @property
    def precision(self) -> float | None:
        return ratio(self.count("tp"), self.escalated)

    @property
    def recall(self) -> float | None:
        return ratio(self.count("tp"), self.positives)

    @property
    def f1(self) -> float | None:
        tp = self.count("tp")
        return ratio(2 * tp, 2 * tp + self.count("fp") + self.count("fn"))

    @property
    def on_time_rate(self) -> float | None:
        return ratio(self.count_timing("on_time"), self.positives)

    @property
    def on_time_caught(self) -> float | None:
        return ratio(self.count_timing("on_time"), self.count("tp"))

    @property
    def early(self) -> int:
        return self.count_timing("early")

    @property
    def late(self) -> int:
        return self.count_timing("late")

    @property
    def trigger_judged(self) -> int:
        return sum(result.trigger_correct is not None for result in self.results)

    @property
    def trigger_correct(self) -> int:
        return sum(result.trigger_correct is True for result in self.results)

    @property
    def trigger_accuracy(self) -> float | None:
        return ratio(self.trigger_correct, self.trigger_judged)

    @property
    def escalation_rate(self) -> float | None:
        return ratio(self.escalated, len(self.results))

    @property
    def false_escalations(self) -> tuple[str, ...]:
        return tuple(result.outcome.id for result in self.results if result.verdict == "fp")

    def by_category(self) -> dict[str, CategoryCounts]:
        """Per-category counts, categories in order of first appearance; unlabelled ones under UNCATEGORISED."""
        groups: dict[str, list[ConversationResult]] = {}
        for result in self.results:
            groups.setdefault(result.outcome.category or UNCATEGORISED, []).append(result)
        return {name: _category_counts(results) for name, results in groups.items()}

    @property
    def wrong(self) -> tuple[ConversationResult, ...]:
        """The conversations the replay got wrong in any way, in input order."""
        return tuple(result for result in self.results if result.problems)

    def to_json(self) -> dict[str, Any]:
        """The headline rates, the counts behind them, and every conversation's result (with its scores)."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "on_time_rate": self.on_time_rate,
            "trigger_accuracy": self.trigger_accuracy,
            "escalation_rate": self.escalation_rate,
            "on_time_caught": self.on_time_caught,
            "tolerance": self.tolerance,
            "counts": {
                "conversations": len(self.results),
                "positives": self.positives,
                "escalated": self.escalated,
                "tp": self.count("tp"),
                "fp": self.count("fp"),
                "fn": self.count("fn"),
                "tn": self.count("tn"),
                "on_time": self.count_timing("on_time"),
                "early": self.early,
                "late": self.late,
                "trigger_judged": self.trigger_judged,
                "trigger_correct": self.trigger_correct,
            },
            "detectors": {name: counts.to_json() for name, counts in self.detectors.items()},
            "categories": {name: counts.to_json() for name, counts in self.by_category().items()},
            "false_escalations": list(self.false_escalations),
            "wrong": [result.outcome.id for result in self.wrong],
            "conversations": [result.to_json() for result in self.results],
        }


def _category_counts(results: Sequence[ConversationResult]) -> CategoryCounts:
    def count(test: Callable[[ConversationResult], bool]) -> int:
        return sum(1 for result in results if test(result))

    return CategoryCounts(
        conversations=len(results),
        positives=count(lambda r: r.outcome.expected.escalate),
        caught=count(lambda r: r.verdict == "tp"),
        on_time=count(lambda r: r.timing == "on_time"),
        early=count(lambda r: r.timing == "early"),
        late=count(lambda r: r.timing == "late"),
        missed=count(lambda r: r.verdict == "fn"),
        false=count(lambda r: r.verdict == "fp"),
    )


def outcome_from_decisions(
    conversation_id: str, expected: Expected, decisions: Sequence[Decision], category: str | None = None
) -> Outcome:
    """The Outcome of a replay that judged customer turns in order: decisions[0] is customer turn 1.

    The first escalating decision gives the turn and the trigger; `fired` and `scores` cover every decision
    given, so a replay that keeps going after the first escalation also shows what fired later.
    """
    first = next((number for number, d in enumerate(decisions, start=1) if d.escalate), None)
    fired: dict[str, list[int]] = {}
    for number, decision in enumerate(decisions, start=1):
        for signal in decision.signals:
            turns = fired.setdefault(signal.detector, [])
            if signal.fired:
                turns.append(number)
    return Outcome(
        id=conversation_id,
        expected=expected,
        escalated=first is not None,
        turn=first,
        trigger=None if first is None else decisions[first - 1].trigger,
        fired=fired,
        scores=[decision.scores for decision in decisions],
        category=category,
    )


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def judge(outcome: Outcome, tolerance: int = 1) -> ConversationResult:
    """Compare one outcome with its label: verdict, timing, trigger and the list of what went wrong."""
    expected = outcome.expected
    if not outcome.escalated:
        verdict: Verdict = "fn" if expected.escalate else "tn"
        return ConversationResult(outcome, verdict, None, None, None, ("missed",) if expected.escalate else ())
    if not expected.escalate:
        return ConversationResult(outcome, "fp", None, None, None, ("false_escalation",))

    assert outcome.turn is not None and expected.turn is not None  # both guaranteed when escalating
    offset = outcome.turn - expected.turn
    timing: Timing = "early" if offset < -tolerance else "late" if offset > tolerance else "on_time"
    trigger_correct = None if expected.trigger is None else outcome.trigger == expected.trigger
    problems = ((timing,) if timing != "on_time" else ()) + (("wrong_trigger",) if trigger_correct is False else ())
    return ConversationResult(outcome, "tp", timing, offset, trigger_correct, problems)


def count_detectors(outcomes: Sequence[Outcome]) -> dict[str, DetectorCounts]:
    """Fire counts per detector: the known detectors first (zeros included), then any others by name."""
    seen = {name for outcome in outcomes for name in outcome.fired} | {o.trigger for o in outcomes if o.trigger}
    names = [*TRIGGERS, *sorted(seen - set(TRIGGERS))]
    counts = {}
    for name in names:
        firing = [outcome for outcome in outcomes if outcome.fired.get(name)]
        counts[name] = DetectorCounts(
            conversations=len(firing),
            turns=sum(len(outcome.fired[name]) for outcome in firing),
            negatives=sum(not outcome.expected.escalate for outcome in firing),
            triggers=sum(outcome.trigger == name for outcome in outcomes),
        )
    return counts


def compute(outcomes: Iterable[Outcome], tolerance: int = 1) -> Report:
    """Judge every outcome and gather the report. Ids must be unique; tolerance is in customer turns."""
    outcomes = list(outcomes)
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 customer turns, got {tolerance}")
    ids = [outcome.id for outcome in outcomes]
    duplicates = sorted({id_ for id_ in ids if ids.count(id_) > 1})
    if duplicates:
        raise ValueError(f"duplicate outcome ids: {', '.join(duplicates)}")
    return Report(
        tolerance=tolerance,
        results=tuple(judge(outcome, tolerance) for outcome in outcomes),
        detectors=count_detectors(outcomes),
    )


def format_report(report: Report) -> str:
    """A plain-text report for a terminal: the rates, the detectors, then each wrong conversation's scores."""
    tp, positives = report.count("tp"), report.positives
    rows = [
        ("precision", report.precision, f"{tp}/{report.escalated} escalations were expected"),
        ("recall", report.recall, f"{tp}/{positives} expected escalations happened"),
        ("f1", report.f1, ""),
        (
            f"on time (±{report.tolerance})",
            report.on_time_rate,
            f"{report.count_timing('on_time')}/{positives}; early {report.early}, late {report.late}, "
            f"missed {report.count('fn')}",
        ),
        ("trigger accuracy", report.trigger_accuracy, f"{report.trigger_correct}/{report.trigger_judged}"),
        ("escalation rate", report.escalation_rate, f"{report.escalated}/{len(report.results)} conversations"),
    ]
    lines = [f"{len(report.results)} conversations, {positives} labelled to escalate", ""]
    lines += [f"{name:<18}{_rate(value):>7}   {detail}".rstrip() for name, value, detail in rows]

    lines += ["", f"{'detector':<20}{'conversations':>14}{'turns':>7}{'negatives':>11}{'triggers':>10}"]
    for name, counts in report.detectors.items():
        lines.append(
            f"{name:<20}{counts.conversations:>14}{counts.turns:>7}{counts.negatives:>11}{counts.triggers:>10}"
        )

    lines += ["", *format_categories(report)]

    wrong = report.wrong
    lines += ["", f"Wrong conversations: {len(wrong)}" + (" (* = fired)" if wrong else "")]
    for result in wrong:
        lines += ["", *_describe(result)]
    return "\n".join(lines)


def format_categories(report: Report) -> list[str]:
    """The per-category table: of the conversations that should escalate, caught (on time, early, late) and
    missed; of those that should not, how many were escalated anyway."""
    categories = report.by_category()
    if list(categories) == [UNCATEGORISED]:
        return []
    width = max([12, *(len(name) for name in categories)]) + 2
    lines = [
        f"{'category':<{width}}{'n':>5}{'caught':>9}{'on time':>9}{'early':>7}{'late':>6}{'missed':>8}{'false':>8}"
    ]
    for name, c in sorted(categories.items(), key=lambda item: (item[1].positives == 0, item[0])):
        if c.positives:
            caught = f"{c.caught}/{c.positives}"
            rest = f"{c.on_time:>9}{c.early:>7}{c.late:>6}{c.missed:>8}{'':>8}"
        else:
            caught, rest = "", f"{'':>9}{'':>7}{'':>6}{'':>8}{f'{c.false}/{c.negatives}':>8}"
        lines.append(f"{name:<{width}}{c.conversations:>5}{caught:>9}{rest}")
    return lines


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _describe(result: ConversationResult) -> list[str]:
    outcome, expected = result.outcome, result.outcome.expected
    wanted = f"turn {expected.turn} by {expected.trigger or 'any detector'}" if expected.escalate else "no escalation"
    did = f"turn {outcome.turn} by {outcome.trigger}" if outcome.escalated else "no escalation"
    lines = [f"{outcome.id}  [{', '.join(result.problems)}]  expected {wanted}; got {did}"]
    names = list(dict.fromkeys(name for turn in outcome.scores for name in turn))
    if not names:
        return lines
    width = max(len(name) for name in names) + 2
    lines.append("    turn" + "".join(f"{name:>{width}}" for name in names))
    for number, turn in enumerate(outcome.scores, start=1):
        cells = []
        for name in names:
            score = turn.get(name)
            mark = "*" if number in outcome.fired.get(name, ()) else " "
            cells.append(f"{'-' if score is None else f'{score:.2f}'}{mark}".rjust(width))
        lines.append((f"    {number:>4}" + "".join(cells)).rstrip())
    return lines
