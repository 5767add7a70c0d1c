"""The search's figures: precision against recall of every candidate, and each threshold swept around the chosen ones.

matplotlib's Agg canvas without pyplot: no global state, safe in any thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from detectors.tuning.search import Knob, SearchResult


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def plot_precision_recall(result: SearchResult, path: Path) -> None:
    figure = _new_figure(6.4, 5.2)
    axes = figure.add_subplot()
    points = sorted({(_nan(c.figures.recall), _nan(c.figures.precision)) for c in result.candidates})
    axes.scatter([r for r, _ in points], [p for _, p in points], s=14, color="#9aa5b1", label="candidates")
    frontier = _pareto(points)
    axes.plot([r for r, _ in frontier], [p for _, p in frontier], color="#52606d", linewidth=1, label="best trade-offs")
    for candidate, label, style in (
        (result.current, "current", dict(marker="X", color="#d64545", s=110)),
        (result.best, "chosen", dict(marker="*", color="#2f8132", s=220)),
    ):
        axes.scatter(
            [_nan(candidate.figures.recall)], [_nan(candidate.figures.precision)], label=label, zorder=3, **style
        )
    bound = result.objective.constraint
    if bound is not None and bound.metric == "precision":
        axes.axhline(bound.limit, color="#f0b429", linestyle="--", label=f"precision {bound.op} {bound.limit:g}")
    if bound is not None and bound.metric == "recall":
        axes.axvline(bound.limit, color="#f0b429", linestyle="--", label=f"recall {bound.op} {bound.limit:g}")
    axes.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
        title=f"Precision-recall of {len(result.candidates)} candidates ({result.objective})",
    )
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize="small")
    figure.savefig(path, format="png")


def _pareto(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point beats on both recall and precision, by recall."""
    finite = [(r, p) for r, p in points if not (math.isnan(r) or math.isnan(p))]
    front: list[tuple[float, float]] = []
    for recall, precision in sorted(finite, key=lambda rp: (-rp[0], -rp[1])):
        if not front or precision > front[-1][1]:
            front.append((recall, precision))
    return sorted(front)


def plot_sweep(result: SearchResult, knob: Knob, path: Path) -> None:
    points = result.sweeps[knob.key]
    figure = _new_figure(6.4, 3.8)
    axes = figure.add_subplot()
    values = [float(p.value) for p in points]
    # Recall and on-time often coincide; recall is drawn last, thick and dashed, so it is never hidden.
    for name, attribute, color, style in (
        ("on time", "on_time_rate", "#9aa5b1", dict(linestyle=":", linewidth=1.5)),
        ("F1", "f1", "#2f8132", dict(linewidth=1.5)),
        ("precision", "precision", "#2680c2", dict(linewidth=1.5)),
        ("recall", "recall", "#d64545", dict(linestyle="--", linewidth=2.5)),
    ):
        axes.plot(
            values, [_nan(getattr(p.figures, attribute)) for p in points], marker=".", label=name, color=color, **style
        )
    axes.axvline(float(knob.get(result.current.thresholds)), color="#d64545", linestyle=":", label="current")
    axes.axvline(float(knob.get(result.best.thresholds)), color="#2f8132", linestyle="--", label="chosen")
    axes.set(xlabel=knob.key, ylabel="rate", ylim=(-0.02, 1.02), title=f"{knob.key}, others at the chosen values")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize="small", ncols=3)
    figure.savefig(path, format="png")
