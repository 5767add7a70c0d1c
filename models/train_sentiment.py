"""Train the sentiment branch (the default) or the embedding-only baseline head.

The branch (`models/weights/sentiment_branch.safetensors`, see models.sentiment_branch) fine-tunes copies
of the encoder's last DEPTH layers plus a linear classifier over negative / neutral / positive. The layers
below the fork stay frozen, so their hidden states are computed once per training text and cached; each
step then runs only the branch forwards and backwards.

Training data (never a test split, never twitter-airline-sentiment, whose licence is non-commercial):

- SemEval-2017 task 4A compilation, de-duplicated by id (3 classes; the 2017 test set is not in it),
  without the tweets that TweetEval-sentiment's val split was drawn from (all 2,000 of them are in it);
- SST-2 train (phrases, negative / positive);
- TweetEval-emotion train: anger and sadness count as negative, joy and optimism as positive.

Batches draw from each source in proportion to SOURCE_SHARE rather than to its row count: SST-2's 67k
short phrases would otherwise swamp the tweets, the closest thing to customer messages. TweetEval-sentiment
val and SST-2 dev are held out to choose the step count and learning rate (see `validate`).

The baseline (`--embedding-head`, `models/weights/sentiment.npz`) is a logistic regression on the shared
sentence embedding alone: free at run time, but well short of the quality targets (see the README).

    python -m models.train_sentiment --data /path/to/shared/data [--embedding-head [--backend onnx-int8]]
    escalator train sentiment --data /path/to/shared/data
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models import datasets
from models.backends import BACKENDS, INT8, offline_pass
from models.embedding_cache import DEFAULT_CACHE_DIR, embed_cached
from models.encoder import Encoder
from models.heads import SENTIMENT_BRANCH_WEIGHTS, SENTIMENT_WEIGHTS, LinearHead
from models.trainer_cli import output_path

if TYPE_CHECKING:  # torch and transformers load only when training runs
    import torch
    from transformers import BatchEncoding, PreTrainedTokenizerBase

    from models.encoder import SentenceEncoder
    from models.sentiment_branch import SentimentBranch

CLASSES = datasets.SENTIMENT_LABELS  # negative, neutral, positive
EMOTION_TO_SENTIMENT = {"anger": "negative", "sadness": "negative", "joy": "positive", "optimism": "positive"}
SOURCE_SHARE = {"semeval2017": 0.4, "sst2_train": 0.5, "emotion_train": 0.1}
# Sources built without neutral texts: their labels only say negative against positive. Letting them also
# say "not neutral" taught the branch that neutral is rare (it called 10% of TweetEval neutral), so for their
# rows the loss compares negative and positive only.
POLAR_SOURCES = frozenset({"sst2_train", "emotion_train"})
DEPTH = 3  # fine-tuned layers: the branch forks off after layer 6 - DEPTH
STEPS = 4000
BATCH = 32
LEARNING_RATE = 1e-4
WARMUP_STEPS = 200
MAX_TOKENS = 128  # tweets and review sentences fit; longer texts are truncated
STATE_CACHE_DIR = Path("var/cache/branch_states")
REPORT_EVERY = 500
EMBEDDING_HEAD_C = 10.0  # the baseline head's regularisation, as it was chosen on SST-2 dev


def training_sets(data_root: Path) -> dict[str, list[tuple[str, str]]]:
    """Every training source as (text, negative|neutral|positive), by name."""
    emotion = datasets.load_tweeteval_emotion(data_root)["train"]
    held_out = {datasets.tweet_identity(text) for text, _ in validation_sets(data_root)["tweeteval_val"]} - {""}
    return {
        # Without this, "validation" would grade tweets the branch trained on and reward memorising them.
        "semeval2017": [
            row for row in datasets.load_semeval2017(data_root) if datasets.tweet_identity(row[0]) not in held_out
        ],
        "sst2_train": datasets.load_sst2(data_root)["train"],
        "emotion_train": [(text, EMOTION_TO_SENTIMENT[label]) for text, label in emotion],
    }


def validation_sets(data_root: Path) -> dict[str, list[tuple[str, str]]]:
    """Held out from training, used to choose steps and learning rate."""
    return {
        "tweeteval_val": datasets.load_tweeteval_sentiment(data_root)["val"],
        "sst2_dev": datasets.load_sst2(data_root)["dev"],
    }


class StateCache:
    """The frozen encoder's hidden state at the fork for each text, computed once and kept on disk."""

    def __init__(
        self,
        transformer: torch.nn.Module,
        tokenizer: PreTrainedTokenizerBase,
        layer: int,
        cache_dir: Path | None = STATE_CACHE_DIR,
    ) -> None:
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.layer = layer
        self.cache_dir = cache_dir

    def states(self, texts: Sequence[str]) -> list[np.ndarray]:
        """One (tokens, dim) float16 array per text, padding removed."""
        path = None
        if self.cache_dir is not None:
            digest = hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:24]
            path = Path(self.cache_dir) / f"{digest}-L{self.layer}-{len(texts)}.npz"
            if path.exists():
                with np.load(path, allow_pickle=False) as saved:
                    return np.split(saved["states"], np.cumsum(saved["lengths"])[:-1])
        computed = self._compute(texts)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, states=np.concatenate(computed), lengths=np.array([len(s) for s in computed]))
            tmp.replace(path)
        return computed

    def tokenize(self, texts: Sequence[str]) -> BatchEncoding:
        # transformers' docstring decorator hides __call__'s declared BatchEncoding from type checkers.
        inputs: BatchEncoding = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        return inputs

    def _compute(self, texts: Sequence[str]) -> list[np.ndarray]:
        import torch

        result: list[np.ndarray] = [np.zeros(0)] * len(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), 64):
                rows = order[start : start + 64]
                inputs = self.tokenize([texts[i] for i in rows])
                hidden = self.transformer(**inputs, output_hidden_states=True, return_dict=True).hidden_states[
                    self.layer
                ]
                lengths = inputs["attention_mask"].sum(dim=1).tolist()
                for j, i in enumerate(rows):
                    result[i] = hidden[j, : lengths[j]].to(torch.float16).numpy()
        return result


def padded(states: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of variable-length states as one zero-padded float32 tensor and its attention mask."""
    import torch

    longest = max(len(s) for s in states)
    hidden = torch.zeros(len(states), longest, states[0].shape[1])
    mask = torch.zeros(len(states), longest, dtype=torch.long)
    for i, s in enumerate(states):
        hidden[i, : len(s)] = torch.from_numpy(s.astype(np.float32))
        mask[i, : len(s)] = 1
    return hidden, mask


def branch_probabilities(branch: SentimentBranch, states: Sequence[np.ndarray], batch: int = 128) -> np.ndarray:
    """The branch's class probabilities for cached states, in their order."""
    import torch

    order = np.argsort([-len(s) for s in states], kind="stable")
    out = np.empty((len(states), len(branch.classes)), dtype=np.float32)
    was_training = branch.training
    branch.eval()
    with torch.inference_mode():
        for start in range(0, len(states), batch):
            rows = order[start : start + batch]
            out[rows] = branch.probabilities(*padded([states[i] for i in rows])).numpy()
    branch.train(was_training)
    return out


def validate(branch: SentimentBranch, held_out: dict[str, tuple[list[np.ndarray], list[str]]]) -> dict[str, float]:
    """TweetEval val macro-recall (3 classes) and negative-vs-rest AUROC, SST-2 dev accuracy (positive against
    negative probability)."""
    from sklearn.metrics import (  # the first is the mean of per-class recall
        balanced_accuracy_score,
        roc_auc_score,
    )

    tweet_states, tweet_labels = held_out["tweeteval_val"]
    tweets = branch_probabilities(branch, tweet_states)
    sst2_states, sst2_labels = held_out["sst2_dev"]
    sst2 = branch_probabilities(branch, sst2_states)
    said_positive = sst2[:, branch.index("positive")] >= sst2[:, branch.index("negative")]
    return {
        "tweeteval_val_macro_recall": float(
            balanced_accuracy_score(tweet_labels, [CLASSES[i] for i in tweets.argmax(1)])
        ),
        # The held-out stand-in for the airline figure, which is evaluation-only.
        "tweeteval_val_negative_auroc": float(
            roc_auc_score(np.array(tweet_labels) == "negative", tweets[:, branch.index("negative")])
        ),
        "sst2_dev_accuracy": float((said_positive == (np.array(sst2_labels) == "positive")).mean()),
    }


def fine_tune(
    branch: SentimentBranch,
    sources: dict[str, tuple[list[np.ndarray], np.ndarray]],
    share: dict[str, float],
    steps: int,
    learning_rate: float,
    rng: np.random.Generator,
    report: Callable[[int, float], None] | None = None,
    polar: frozenset[str] = frozenset(),
) -> None:
    """Train `branch` in place on cached states: (states, class indices) per source, batches drawn by `share`.

    Rows from `polar` sources are scored on negative against positive only (their neutral logit is masked).
    `report(step, loss)` is called every REPORT_EVERY steps, for progress on long runs.
    """
    import torch

    names = list(share)
    weights = np.array([share[name] for name in names])
    optimiser = torch.optim.AdamW(branch.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = min(WARMUP_STEPS, max(1, steps // 10))
    # Linear warm-up, then linear decay to zero: the usual schedule for fine-tuning BERT-style layers.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, 1.0 - step / steps)
    )
    branch.train()
    for step in range(1, steps + 1):
        states: list[np.ndarray] = []
        labels: list[int] = []
        polar_rows: list[bool] = []
        for name, count in zip(names, rng.multinomial(BATCH, weights / weights.sum()), strict=False):
            source_states, source_labels = sources[name]
            picked = rng.integers(0, len(source_states), count)
            states += [source_states[i] for i in picked]
            labels += source_labels[picked].tolist()
            polar_rows += [name in polar] * int(count)
        logits = branch(*padded(states))
        if any(polar_rows):
            masked = torch.zeros_like(logits, dtype=torch.bool)
            masked[torch.tensor(polar_rows), branch.index("neutral")] = True
            logits = logits.masked_fill(masked, -1e4)  # finite, so the masked logit gets no NaN gradient
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]  # torch's Tensor.backward has no annotations
        optimiser.step()
        schedule.step()
        if report is not None and step % REPORT_EVERY == 0:
            report(step, loss.item())
    branch.eval()


def train_branch(
    data_root: Path,
    out: Path = SENTIMENT_BRANCH_WEIGHTS,
    state_cache: Path | None = STATE_CACHE_DIR,
    steps: int = STEPS,
    learning_rate: float = LEARNING_RATE,
    seed: int = 0,
    encoder: SentenceEncoder | None = None,
    depth: int = DEPTH,
) -> dict[str, object]:
    """Fine-tune the branch's layers from the encoder's own, save them to `out`, report held-out figures."""
    import torch

    from models.sentiment_branch import SentimentBranch

    if encoder is None:
        from models.encoder import SentenceEncoder

        encoder = SentenceEncoder(threads=torch.get_num_threads())
    transformer = encoder.transformer
    torch.manual_seed(seed)  # the classifier's initial weights
    rng = np.random.default_rng(seed)
    branch = SentimentBranch.from_encoder(transformer, depth, CLASSES)
    cache = StateCache(transformer, encoder.tokenizer, branch.from_layer, state_cache)
    sources = {
        name: (cache.states(datasets.texts_of(rows)), np.array([CLASSES.index(label) for _, label in rows]))
        for name, rows in training_sets(data_root).items()
    }
    held_out = {
        name: (cache.states(datasets.texts_of(rows)), [label for _, label in rows])
        for name, rows in validation_sets(data_root).items()
    }
    started = time.perf_counter()

    def progress(step: int, loss: float) -> None:
        figures = validate(branch, held_out)
        elapsed = time.perf_counter() - started
        print(f"step {step}/{steps} loss {loss:.3f} {figures} {elapsed:.0f} s", file=sys.stderr, flush=True)

    fine_tune(branch, sources, SOURCE_SHARE, steps, learning_rate, rng, progress, POLAR_SOURCES)
    branch.save(out)
    return {
        "weights": str(out),
        "depth": depth,
        "steps": steps,
        "learning_rate": learning_rate,
        "training_seconds": round(time.perf_counter() - started, 1),
        "rows": {name: len(rows[0]) for name, rows in sources.items()},
        **validate(branch, held_out),
    }


def fit_embedding_head(embeddings: np.ndarray, labels: Sequence[str], weights: np.ndarray) -> LinearHead:
    """Logistic regression on the shared sentence embedding alone: the baseline head."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=EMBEDDING_HEAD_C, max_iter=5000)
    model.fit(embeddings, np.asarray(labels), sample_weight=weights / weights.mean())
    order = [list(model.classes_).index(name) for name in CLASSES]
    return LinearHead(model.coef_[order], model.intercept_[order], CLASSES)


def source_weights(sizes: dict[str, int], share: dict[str, float]) -> np.ndarray:
    """One weight per row so each source's total weight is its share of all rows."""
    total = sum(sizes.values())
    return np.concatenate([np.full(n, share[name] * total / n) for name, n in sizes.items()])


def train_embedding_head(
    data_root: Path,
    out: Path = SENTIMENT_WEIGHTS,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    encoder: Encoder | None = None,
) -> dict[str, object]:
    """The baseline head (`sentiment.npz`): reads only the sentence embedding every head shares."""
    if encoder is None:
        from models.encoder import SentenceEncoder

        encoder = SentenceEncoder()
    sets = training_sets(data_root)
    embeddings = np.vstack([embed_cached(encoder, datasets.texts_of(rows), cache_dir) for rows in sets.values()])
    labels = [label for rows in sets.values() for _, label in rows]
    head = fit_embedding_head(embeddings, labels, source_weights({k: len(v) for k, v in sets.items()}, SOURCE_SHARE))
    head.save(out)
    return {"weights": str(out), "features": "embedding", "rows": {name: len(rows) for name, rows in sets.items()}}


def train(data_root: Path, out: Path | None = None, cache_dir: Path | None = None) -> dict[str, object]:
    """What `escalator train sentiment` runs: the branch, with the default steps and learning rate."""
    return train_branch(data_root, out or SENTIMENT_BRANCH_WEIGHTS, cache_dir or STATE_CACHE_DIR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared data root")
    parser.add_argument("--out", type=Path, help="where to write the weights (default: the shipped file)")
    parser.add_argument("--cache", type=Path, help="hidden-state (or, for the baseline, embedding) cache directory")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"training steps of {BATCH} messages")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument(
        "--depth", type=int, default=DEPTH, help="how many of the encoder's last layers the branch fine-tunes"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads while training")
    parser.add_argument("--embedding-head", action="store_true", help="train the embedding-only baseline instead")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="torch",
        help="the pass whose embeddings the baseline reads (the branch itself always trains on torch)",
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.embedding_head:
        encoder, _ = offline_pass(args.backend)
        report = train_embedding_head(
            args.data, output_path(args, SENTIMENT_WEIGHTS), args.cache or DEFAULT_CACHE_DIR, encoder
        )
    elif args.backend == INT8:
        parser.error("the branch is trained on torch and quantized with the pass; --backend is for --embedding-head")
    else:
        report = train_branch(
            args.data,
            args.out or SENTIMENT_BRANCH_WEIGHTS,
            args.cache or STATE_CACHE_DIR,
            args.steps,
            args.learning_rate,
            depth=args.depth,
        )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
