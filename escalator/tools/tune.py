"""`escalator tune`: search the detectors' thresholds on replayed labelled conversations, and write what it found.

The search itself is detectors.tuning.search; this command analyses the conversations once (the Replayer), keeps a
share of them (or another file) out of the search, runs it, and writes into the output directory: suggested.toml,
tune.json, report.html, precision_recall.png and one thresholds_<section>_<field>.png per swept field.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from detectors.tuning.conversations import LabelledConversation, read_conversations
from detectors.tuning.metrics import compute
from detectors.tuning.objective import CategoryFloors, Figures, Objective
from detectors.tuning.plots import plot_precision_recall, plot_sweep
from detectors.tuning.report import report_html
from detectors.tuning.search import ReplaysConversations, search, search_space
from detectors.tuning.suggestion import suggested_toml, summary
from detectors.tuning.validation import HOLDOUT_SHARE, split_holdout, warnings_for
from escalator.settings import Settings


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
    plots: bool = True,
) -> dict[str, Any]:
    """Search thresholds for `objective` on the labelled conversations; write the report files into out_dir.

    `plots` False skips the PNG figures (the report then shows the tables only).
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
            from escalator.analysis import build_analysis
            from escalator.tools.replay import Replayer

            replayer = Replayer(build_analysis(settings), [*tuning, *held], on_analysed=bar.update)
    search_replayer = _subset(replayer, tuning)
    current = settings.detectors

    started = time.perf_counter()
    knobs = tuple(k for k in search_space(current) if k.section not in freeze and k.key not in freeze)
    with _progress_bar(progress, "tuning", sum(len(k.values) for k in knobs) * 2, unit=" replays") as bar:
        result = search(
            search_replayer, current, goal, tolerance=tolerance, knobs=knobs, on_replay=lambda: bar.update(1)
        )
    seconds = time.perf_counter() - started
    best_report = compute(search_replayer.replay(result.best.thresholds), tolerance)

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "suggested": out_dir / "suggested.toml",
        "json": out_dir / "tune.json",
        "html": out_dir / "report.html",
        "precision_recall": out_dir / "precision_recall.png",
    }
    numeric = [knob for knob in result.knobs if not knob.is_switch] if plots else []
    curves = {knob.key: out_dir / f"thresholds_{knob.section}_{knob.field}.png" for knob in numeric}

    found = summary(result, best_report, tolerance, seconds, len(tuning))
    if held:
        held_replayer = _subset(replayer, held)
        found["held_out"] = {
            "conversations": len(held),
            "source": str(holdout)
            if isinstance(holdout, Path)
            else f"{float(holdout or 0):g} of the file, by category",
            "current": Figures.of(compute(held_replayer.replay(current), tolerance)).to_json(),
            "best": Figures.of(compute(held_replayer.replay(result.best.thresholds), tolerance)).to_json(),
        }
    found["warnings"] = warnings_for(result, search_replayer, tuning, tolerance)
    found["paths"] = {
        **{name: str(path) for name, path in paths.items()},
        "thresholds": {key: str(path) for key, path in curves.items()},
    }
    paths["suggested"].write_text(suggested_toml(result, found["warnings"]), encoding="utf-8")
    if plots:
        plot_precision_recall(result, paths["precision_recall"])
    for knob in numeric:
        plot_sweep(result, knob, curves[knob.key])
    paths["html"].write_text(
        report_html(found, result, best_report, tuning, {k: p.name for k, p in curves.items()}),
        encoding="utf-8",
    )
    paths["json"].write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    return found


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
