"""`escalator evaluate-public-chats`: two-question chats built from public data, replayed through the whole pipeline.

- Banking77 test: two in-scope banking questions in a row. Nothing here needs a person, so every escalation is
  a false one (with the banking knowledge base, at most 3% should escalate).
- CLINC150 oos_test: two questions in a row that no knowledge base of a store or a bank answers. Each should be
  handed over at the second question (on time within the replay's tolerance).

The chats are drawn with a fixed seed, so every run replays the same ones. Run it with the deployment whose
knowledge base fits the questions (`--config bot/data/banking/escalator.toml` for Banking77).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from detectors.tuning.conversations import Expected, LabelledConversation, ScriptTurn
from detectors.tuning.metrics import compute
from escalator.analysis import Analysis
from escalator.tools.replay import Replayer
from models import datasets

SEED = 20261203
CHATS = 500  # per set


def two_question_chats(texts: list[str], category: str, expected: Expected, count: int) -> list[LabelledConversation]:
    """`count` chats of two distinct questions each, drawn without replacement."""
    pool = sorted(set(texts))
    random.Random(f"{SEED}-{category}").shuffle(pool)
    pairs = [pool[2 * i : 2 * i + 2] for i in range(min(count, len(pool) // 2))]
    return [
        LabelledConversation(
            id=f"{category}-{number:04d}",
            turns=tuple(ScriptTurn("customer", text) for text in pair),
            expected=expected,
            category=category,
        )
        for number, pair in enumerate(pairs, start=1)
    ]


def evaluate_public_chats(data_root: Path, analysis: Analysis, count: int = CHATS) -> dict[str, Any]:
    banking = datasets.texts_of(datasets.load_banking77(data_root)["test"])
    oos = datasets.texts_of(datasets.load_clinc150(data_root)["oos_test"])
    chats = two_question_chats(banking, "banking77-test-pair", Expected(escalate=False), count)
    chats += two_question_chats(oos, "clinc150-oos-pair", Expected(escalate=True, turn=2), count)
    report = compute(Replayer(analysis, chats).replay(analysis.settings.detectors))
    categories = report.by_category()
    calm, off_topic = categories["banking77-test-pair"], categories["clinc150-oos-pair"]
    triggers: dict[str, dict[str, int]] = {}
    for result in report.results:
        if result.outcome.escalated:
            by = triggers.setdefault(result.outcome.category or "", {})
            by[result.outcome.trigger or "?"] = by.get(result.outcome.trigger or "?", 0) + 1
    return {
        "knowledge_base": analysis.knowledge_base.name,
        "banking77_pairs": {
            "chats": calm.conversations,
            "escalated": calm.false,
            "escalation_rate": calm.false_rate,
            "target": "<= 0.03",
            "by_trigger": triggers.get("banking77-test-pair", {}),
        },
        "clinc150_oos_pairs": {
            "chats": off_topic.conversations,
            "escalated": off_topic.caught,
            "on_time": off_topic.on_time,
            "escalation_rate": off_topic.caught_rate,
            "on_time_rate": off_topic.on_time / off_topic.positives if off_topic.positives else None,
            "target": ">= 0.95 on time",
            "by_trigger": triggers.get("clinc150-oos-pair", {}),
        },
    }


def format_public_chats(figures: dict[str, Any]) -> str:
    calm, oos = figures["banking77_pairs"], figures["clinc150_oos_pairs"]
    return "\n".join(
        [
            f"knowledge base: {figures['knowledge_base']}",
            f"banking77 test, two questions: {calm['escalated']}/{calm['chats']} escalated "
            f"({calm['escalation_rate']:.3f}; target <= 0.03) by {calm['by_trigger']}",
            f"clinc150 oos_test, two questions: {oos['escalated']}/{oos['chats']} escalated, {oos['on_time']} on time "
            f"({oos['on_time_rate']:.3f}; target >= 0.95) by {oos['by_trigger']}",
        ]
    )
