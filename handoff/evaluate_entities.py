"""How well the entity extractor finds the spans annotated in the Bitext customer-support set.

    python -m handoff.evaluate_entities --data DIR [--split test] [--no-spacy] [--json OUT]

Bitext annotates at most one entity per utterance. Its types map to ours as `GOLD_TYPES` says; `account_type`
("Premium", "Gold") is not one of ours and is left out. Utterances are grouped by text, so a repeated one counts once.

Counting, per type T:
- recall: a gold span of T is found when an extracted entity of type T in the same utterance overlaps it
  (by at least one character: "$160" finds the gold "160").
- precision: over the utterances annotated with a span of T only, the share of our T entities that overlap a
  gold T span. Utterances not annotated with T are not judged, because one annotation per utterance means they may
  still hold a real T ("I paid $160 for order 00123842" is annotated with the amount alone).
- unjudged: our T entities in utterances not annotated with T. They are reported, and `precision_lower_bound`
  counts every one of them as wrong, so the truth lies between the two precisions.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from handoff.entities import Entity, EntityExtractor, load_spacy

GOLD_TYPES = {
    "order_id": "order_number",
    "invoice_id": "invoice_number",
    "refund_amount": "amount",
    "person_name": "person",
    "delivery_city": "place",
    "delivery_country": "place",
}
SPLIT_FILES = {
    "train": "Bitext_Sample_Customer_Service_Training_Dataset.csv",
    "dev": "Bitext_Sample_Customer_Service_Validation_Dataset.csv",
    "test": "Bitext_Sample_Customer_Service_Testing_Dataset.csv",
}
EXAMPLES = 5  # misses and unjudged mentions kept per type, to read


class Extractor(Protocol):
    def extract(self, texts: Sequence[str]) -> list[Entity]: ...


Span = tuple[str, int, int]  # (our type, start, end)


def read_gold(path: Path) -> dict[str, set[Span]]:
    """Each distinct utterance with its gold spans, mapped to our types (an utterance may have none)."""
    gold: dict[str, set[Span]] = {}
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            utterance = row["utterance"]
            spans = gold.setdefault(utterance, set())
            our_type = GOLD_TYPES.get(row["entity_type"])
            if our_type is None:
                continue
            start, end = int(row["start_offset"]), int(row["end_offset"])
            if utterance[start:end] != row["entity_value"] and row["entity_value"] in utterance:
                start = utterance.index(row["entity_value"])  # trust the value over offsets that disagree with it
                end = start + len(row["entity_value"])
            spans.add((our_type, start, end))
    return gold


def evaluate(data_root: Path, extractor: Extractor, split: str = "test") -> dict[str, Any]:
    """Precision and recall per type on one split of Bitext (see the module docstring for the counting)."""
    if split not in SPLIT_FILES:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLIT_FILES)}")
    gold = read_gold(Path(data_root) / "bitext-customer-support" / SPLIT_FILES[split])
    utterances = list(gold)
    predicted: dict[int, list[Entity]] = defaultdict(list)
    for entity in extractor.extract(utterances):
        predicted[entity.message].append(entity)

    counts: dict[str, dict[str, Any]] = {
        t: {"gold": 0, "found": 0, "predicted": 0, "correct": 0, "unjudged": 0, "missed": [], "unjudged_examples": []}
        for t in sorted(set(GOLD_TYPES.values()))
    }
    for index, utterance in enumerate(utterances):
        for our_type, c in counts.items():
            gold_spans = [(s, e) for t, s, e in gold[utterance] if t == our_type]
            ours = [e for e in predicted[index] if e.type == our_type]
            if not gold_spans:
                c["unjudged"] += len(ours)
                c["unjudged_examples"].extend(f"{e.text!r} in {utterance!r}" for e in ours)
                continue
            for start, end in gold_spans:
                c["gold"] += 1
                if any(_overlap(e, start, end) for e in ours):
                    c["found"] += 1
                else:
                    c["missed"].append(f"{utterance[start:end]!r} in {utterance!r}")
            c["predicted"] += len(ours)
            c["correct"] += sum(any(_overlap(e, s, t) for s, t in gold_spans) for e in ours)

    for c in counts.values():
        c["recall"] = _ratio(c["found"], c["gold"])
        c["precision"] = _ratio(c["correct"], c["predicted"])
        c["precision_lower_bound"] = _ratio(c["correct"], c["predicted"] + c["unjudged"])
        c["missed"] = c["missed"][:EXAMPLES]
        c["unjudged_examples"] = c["unjudged_examples"][:EXAMPLES]
    return {"split": split, "utterances": len(utterances), "types": counts}


def _overlap(entity: Entity, start: int, end: int) -> bool:
    return entity.start < end and start < entity.end


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def format_table(report: dict[str, Any]) -> str:
    header = f"{'type':<16}{'gold':>6}{'found':>7}{'recall':>8}{'ours':>6}{'prec':>7}{'unjudged':>10}{'prec_lb':>9}"
    lines = [f"Bitext {report['split']} ({report['utterances']} utterances)", header]
    for name, c in report["types"].items():
        lines.append(
            f"{name:<16}{c['gold']:>6}{c['found']:>7}{_cell(c['recall']):>8}{c['predicted']:>6}"
            f"{_cell(c['precision']):>7}{c['unjudged']:>10}{_cell(c['precision_lower_bound']):>9}"
        )
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the public data sets' directory")
    parser.add_argument("--split", choices=sorted(SPLIT_FILES), default="test")
    parser.add_argument("--no-spacy", action="store_true", help="regular expressions only")
    parser.add_argument("--json", type=Path, help="also write the full report (with example misses) here")
    args = parser.parse_args(argv)

    extractor = EntityExtractor(products=(), nlp=None if args.no_spacy else load_spacy())
    report = evaluate(args.data, extractor, args.split)
    print(format_table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
