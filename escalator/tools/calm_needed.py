"""How many conversations that should not escalate a tuning set needs (the number behind `escalator tune`'s warning).

Tune (objective F1) on every escalating conversation of a train file plus N of its calm ones, for several N and two
random draws each, then replay a dev file under the suggested thresholds and report the share of its calm
conversations that escalated.

    python -m escalator.tools.calm_needed --train detectors/data/conversations/store-train.jsonl \\
                              --dev detectors/data/conversations/store-dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path

from detectors.tuning.conversations import read_conversations
from detectors.tuning.metrics import compute
from detectors.tuning.objective import Objective
from detectors.tuning.search import search
from escalator.analysis import build_analysis
from escalator.settings import load_settings
from escalator.tools.replay import Replayer

SIZES = (10, 30, 60, 100, 200)
DRAWS = (1, 2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    train, dev = read_conversations(args.train), read_conversations(args.dev)
    replayer = Replayer(build_analysis(settings), [*train, *dev])
    escalating = [c for c in train if c.expected.escalate]
    calm = [c for c in train if not c.expected.escalate]
    held = replayer.subset(dev)
    for size in SIZES:
        for draw in DRAWS:
            chosen = escalating + random.Random(draw).sample(calm, min(size, len(calm)))
            best = search(replayer.subset(chosen), settings.detectors, Objective.parse("f1")).best.thresholds
            categories = compute(held.replay(best)).results
            quiet = [r for r in categories if not r.outcome.expected.escalate]
            share = sum(r.verdict == "fp" for r in quiet) / len(quiet)
            print(
                json.dumps({"calm_in_tuning_set": size, "draw": draw, "dev_calm_escalated": round(share, 3)}),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
