"""Train the stuck-signs head (models.stuck_signs) from the hand-written examples in `models/data/stuck_signs.yaml`.

Classes: none, and one per sign in the file. "none" holds the file's look-alikes (`not_signs`: "that worked,
thanks", "it's my second order"), ordinary support requests of every topic (a sample of Banking77, CLINC150 and
bitext train), so that no topic by itself looks like a sign, and every customer turn of the store-train
conversations that need no person (thanks, goodbyes, follow-up questions: chat, which the public sets lack).
Classes are balanced.

    python -m models.train_stuck_signs --data /path/to/shared/data [--backend onnx-int8]
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from models import datasets
from models.embedding_cache import DEFAULT_CACHE_DIR, embed_cached
from models.encoder import Encoder
from models.heads import LinearHead
from models.stuck_signs import NONE, STUCK_SIGNS_WEIGHTS
from models.trainer_cli import run_trainer

EXAMPLES = Path(__file__).parent / "data" / "stuck_signs.yaml"
CONVERSATIONS = Path(__file__).resolve().parents[1] / "detectors" / "data" / "conversations" / "store-train.jsonl"
ORDINARY_SAMPLE = 4000
REGULARISATION_C = 1.0
SEED = 0


def read_examples(path: Path = EXAMPLES) -> tuple[dict[str, list[str]], list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(s["name"]): [str(e) for e in s["examples"]] for s in data["signs"]}, [str(e) for e in data["not_signs"]]


def calm_turns(path: Path) -> list[str]:
    """Every customer turn of the labelled conversations that should not escalate."""
    turns: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line) if line.strip() else None
        if record and not record["expected"]["escalate"]:
            turns += [turn["text"] for turn in record["turns"] if turn["role"] == "customer"]
    return turns


def ordinary_requests(data_root: Path) -> list[str]:
    texts = sorted(
        set(datasets.texts_of(datasets.load_banking77(data_root)["train"]))
        | set(datasets.texts_of(datasets.load_clinc150(data_root)["train"]))
        | set(datasets.texts_of(datasets.load_bitext(data_root)["train"]))
    )
    random.Random(SEED).shuffle(texts)
    return texts[:ORDINARY_SAMPLE]


def train(data_root: Path, out: Path = STUCK_SIGNS_WEIGHTS, cache_dir: Path | None = DEFAULT_CACHE_DIR,
          encoder: Encoder | None = None) -> dict[str, object]:  # fmt: skip
    from sklearn.linear_model import LogisticRegression

    if encoder is None:
        from models.encoder import SentenceEncoder

        encoder = SentenceEncoder()
    signs, not_signs = read_examples()
    groups = {NONE: not_signs + ordinary_requests(data_root) + calm_turns(CONVERSATIONS), **signs}
    classes = tuple(groups)
    x = np.vstack([embed_cached(encoder, texts, cache_dir) for texts in groups.values()])
    y = np.concatenate([np.full(len(texts), k) for k, texts in enumerate(groups.values())])
    model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=5000)
    model.fit(x, y)
    LinearHead(model.coef_, model.intercept_, classes).save(out)
    return {"weights": str(out), "rows": {name: len(texts) for name, texts in groups.items()}}


def main(argv: Sequence[str] | None = None) -> int:
    return run_trainer(train, __doc__, STUCK_SIGNS_WEIGHTS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
