"""The search's result for people: suggested.toml, the summary written to tune.json, and the terminal's table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from detectors.thresholds import Thresholds
from detectors.tuning.metrics import Report
from detectors.tuning.objective import METRICS, Figures
from detectors.tuning.search import (
    Candidate,
    SearchResult,
    Value,
    changes,
    describe_value,
)


def summary(result: SearchResult, best_report: Report, tolerance: int, seconds: float, count: int) -> dict[str, Any]:
    objective = result.objective

    def figures(candidate: Candidate) -> dict[str, Any]:
        return {
            **candidate.figures.to_json(),
            "objective": objective.value(candidate.figures),
            "feasible": objective.feasible(candidate.figures),
        }

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
        "top": [
            {**figures(c), "changes": changes(result.knobs, result.current.thresholds, c.thresholds)}
            for c in top_candidates(result)
        ],
        "sweeps": {
            key: [{"value": p.value, **p.figures.to_json()} for p in points] for key, points in result.sweeps.items()
        },
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
    return ", ".join(f"{name} {rate(getattr(figures, METRICS[name]))}" for name in names)


def rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


COLUMNS = (
    ("precision", "precision"),
    ("recall", "recall"),
    ("f1", "f1"),
    ("on time", "on_time_rate"),
    ("trigger", "trigger_accuracy"),
    ("esc.rate", "escalation_rate"),
)


def format_tradeoff(result: Mapping[str, Any]) -> str:
    """Current vs best, the top candidates and what changed, as a short table (from run_tune's result)."""
    header = f"{'':<10}" + "".join(f"{title:>10}" for title, _ in COLUMNS) + f"{'objective':>11}"

    def row(label: str, figures: Mapping[str, Any]) -> str:
        cells = "".join(f"{rate(figures[key]):>10}" for _, key in COLUMNS)
        mark = "" if figures["feasible"] else " (bound not met)"
        return f"{label:<10}{cells}{rate(figures['objective']):>11}{mark}"

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
    return ", ".join(f"{key} {describe_value(c['old'])} -> {describe_value(c['new'])}" for key, c in changed.items())
