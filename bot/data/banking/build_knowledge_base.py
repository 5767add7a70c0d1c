"""Build the banking example deployment's knowledge base from banking77's training split.

    python bot/data/banking/build_knowledge_base.py --data ../shared/data

Each of banking77's 77 intents gets 15 example questions, drawn with a fixed seed from the training split (the
test split stays unseen, for `escalator evaluate-public-chats`), and the hand-written answer and topic from
`answers.yaml` beside this file. The result, `knowledge_base.yaml`, is committed: a deployment the detectors were
not built around, to check that what holds for the store transfers.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
EXAMPLES_PER_INTENT = 15
SEED = 77

HEADER = """\
# Harbour Bank, an example deployment built from banking77's training split (CC BY 4.0, PolyAI):
# 15 example questions per intent, drawn by build_knowledge_base.py with seed 77; answers written for this project.
"""


def build(data_root: Path) -> dict[str, object]:
    answers = yaml.safe_load((HERE / "answers.yaml").read_text(encoding="utf-8"))
    topics = answers.pop("topics")
    by_intent: dict[str, list[str]] = defaultdict(list)
    with open(data_root / "banking77" / "train.csv", encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows):
            by_intent[row["category"]].append(" ".join(row["text"].split()))
    rng = random.Random(SEED)
    intents = []
    for name in sorted(by_intent):
        pool = sorted(set(by_intent[name]))
        intents.append(
            {
                "name": name,
                "topic": topics[name],
                "examples": rng.sample(pool, EXAMPLES_PER_INTENT),
                "answer": " ".join(str(answers[name]).split()),
            }
        )
    teams = defaultdict(list)
    for topic in sorted(set(topics.values())):
        teams[
            "cards"
            if topic in ("cards", "cash")
            else "payments"
            if topic in ("payments", "transfers", "top_up", "exchange")
            else topic
        ].append(topic)
    return {
        "name": "Harbour Bank",
        "greeting": "Hi! I'm Harbour Bank's assistant, a bot. Ask me about your card, payments, transfers or your account. "
        "If you'd like a person at any point, just say so.",
        "languages": ["en"],
        "teams": {**dict(teams), "general": ["small_talk"]},
        "case_types": "case_types.yaml",
        "intents": intents,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the folder of public data sets (holding banking77/)")
    args = parser.parse_args()
    knowledge_base = build(args.data)
    text = yaml.safe_dump(knowledge_base, sort_keys=False, allow_unicode=True, width=120)
    (HERE / "knowledge_base.yaml").write_text(HEADER + text, encoding="utf-8")
    print(f"wrote {HERE / 'knowledge_base.yaml'}: {len(knowledge_base['intents'])} intents")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
