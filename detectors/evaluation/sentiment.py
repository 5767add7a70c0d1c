"""How well the sentiment branch reads negativity, with the embedding-only head's and VADER's figures beside it.

- TweetEval-sentiment test: 3-class macro-averaged recall (the task's official metric);
- SST-2 test: binary accuracy (positive vs negative probability, neutral ignored);
- Twitter US airline sentiment, all 14,640 tweets: AUROC of P(negative) for negative vs the rest
  (non-commercial licence: evaluation only, the head never trains on it).

`select_thresholds` measures the detector's single-message and trend defaults on validation data the
head never saw: SST-2 dev and TweetEval-emotion val (anger/sadness as negative, joy/optimism not).

    python -m detectors.evaluation.sentiment --data /path/to/shared/data [--select] [--backend onnx-int8]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from detectors.evaluation import single_turn_conversations
from detectors.sentiment import SentimentDetector
from detectors.thresholds import SentimentThresholds
from models import datasets
from models.backends import BACKENDS, HeadWeights, offline_pass
from models.embedding_cache import DEFAULT_CACHE_DIR, cached, embed_cached
from models.encoder import BranchEncoder, features_of
from models.heads import SENTIMENT_BRANCH_WEIGHTS, SENTIMENT_WEIGHTS, load_head
from models.sentiment_branch import SentimentBranch

LABELS = datasets.SENTIMENT_LABELS  # negative, neutral, positive


def macro_recall(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean over the classes present in `truth` of the share of that class predicted correctly."""
    return float(balanced_accuracy_score(list(truth), list(predicted)))


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: P(a random positive outscores a random negative), ties count half."""
    return float(roc_auc_score(np.asarray(positive, dtype=bool), np.asarray(scores, dtype=np.float64)))


def vader_label(compound: float) -> str:
    """VADER's documented cut-offs: compound >= 0.05 positive, <= -0.05 negative, else neutral."""
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def _vader_compound(texts: Sequence[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(t)["compound"] for t in texts])


def _figures(
    tweet_labels: list[str],
    tweet_predicted: list[str],
    sst2_positive: np.ndarray,
    sst2_predicted_positive: np.ndarray,
    airline_negative: np.ndarray,
    airline_negativity: np.ndarray,
) -> dict[str, float]:
    return {
        "tweeteval_macro_recall": macro_recall(tweet_labels, tweet_predicted),
        "sst2_accuracy": float((sst2_positive == sst2_predicted_positive).mean()),
        "airline_negative_auroc": auroc(airline_negativity, airline_negative),
    }


class SentimentModel:
    """Class probabilities from the sentiment branch (`.safetensors`) or an embedding head (`.npz`), cached on disk.

    The branch is the one `encoder`'s pass runs (`branch`, loaded from `weights`); a head reads that pass's embeddings.
    """

    def __init__(
        self,
        encoder: BranchEncoder,
        branch: SentimentBranch,
        weights: Path,
        cache_dir: Path | None = DEFAULT_CACHE_DIR,
    ) -> None:
        self.weights = Path(weights)
        self.cache_dir = cache_dir
        self.encoder = encoder
        # The cache key names the exact weights, so retraining never reads stale probabilities.
        self.tag = "sentiment-" + hashlib.sha256(self.weights.read_bytes()).hexdigest()[:12]
        if self.weights.suffix == ".safetensors":
            self.branch = branch
            self.classes, self.kind = self.branch.classes, f"branch of {len(self.branch.layers)} fine-tuned layers"
        else:
            self.head = load_head(self.weights)
            self.classes, self.kind = self.head.classes, f"{self.head.kind} head over the {self.head.dim}-d embedding"

    def index(self, name: str) -> int:
        return self.classes.index(name)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        if self.weights.suffix == ".safetensors":
            return cached(
                texts,
                lambda t: self.encoder.encode_with_branch(t, self.branch)[1],
                self.cache_dir,
                self.tag,
                features=features_of(self.encoder),
            )
        return self.head.predict_proba(embed_cached(self.encoder, texts, self.cache_dir))


def evaluate(
    data_root: Path,
    encoder: BranchEncoder,
    branch: SentimentBranch,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    weights: Path = SENTIMENT_BRANCH_WEIGHTS,
    with_vader: bool = True,
    baseline: Path | None = SENTIMENT_WEIGHTS,
) -> dict[str, object]:
    """Test-set figures of the shipped sentiment model (`branch`, in `encoder`'s pass, loaded from `weights`), and
    of the embedding-only head (`baseline`, trained on the same pass's embeddings) and VADER on the same texts."""
    tweets = datasets.load_tweeteval_sentiment(data_root)["test"]
    sst2 = datasets.load_sst2(data_root)["test"]
    airline = datasets.load_twitter_airline(data_root)
    tweet_labels = [label for _, label in tweets]
    sst2_positive = np.array([label == "positive" for _, label in sst2])
    airline_negative = np.array([label == "negative" for _, label in airline])

    def figures_of(model: SentimentModel) -> dict[str, object]:
        tweet_p = model.probabilities(datasets.texts_of(tweets))
        sst2_p = model.probabilities(datasets.texts_of(sst2))
        airline_p = model.probabilities(datasets.texts_of(airline))
        negative, positive = model.index("negative"), model.index("positive")
        return {
            **_figures(
                tweet_labels,
                [model.classes[i] for i in tweet_p.argmax(axis=1)],
                sst2_positive,
                sst2_p[:, positive] >= sst2_p[:, negative],
                airline_negative,
                airline_p[:, negative],
            ),
            "model": model.kind,
        }

    result = figures_of(SentimentModel(encoder, branch, weights, cache_dir))
    if baseline is not None:
        result["embedding_head"] = figures_of(SentimentModel(encoder, branch, baseline, cache_dir))
    if with_vader:
        tweet_c = _vader_compound(datasets.texts_of(tweets))
        sst2_c = _vader_compound(datasets.texts_of(sst2))
        airline_c = _vader_compound(datasets.texts_of(airline))
        result["vader"] = _figures(
            tweet_labels, [vader_label(c) for c in tweet_c], sst2_positive, sst2_c >= 0, airline_negative, -airline_c
        )
    return result


def select_thresholds(
    data_root: Path,
    encoder: BranchEncoder,
    branch: SentimentBranch,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    weights: Path = SENTIMENT_BRANCH_WEIGHTS,
    calm_false_alarm_rate: float = 0.02,
) -> dict[str, object]:
    """Pick the message and trend thresholds by their false-alarm rate on calm validation messages.

    `message`: the lowest value (to 0.01) at which at most `calm_false_alarm_rate` of non-negative
    messages fire on their own. `trend`: with smoothing 0.5 and two customer turns the trend is the mean
    of the two messages' negativity, so it is the lowest value at which at most the same share of random
    pairs of calm messages fire. Recall is reported on single upset messages and on random upset pairs.
    """
    model = SentimentModel(encoder, branch, weights, cache_dir)
    sst2 = datasets.load_sst2(data_root)["dev"]
    emotion = datasets.load_tweeteval_emotion(data_root)["val"]
    texts = datasets.texts_of(sst2) + datasets.texts_of(emotion)
    upset = np.array(
        [label == "negative" for _, label in sst2] + [label in ("anger", "sadness") for _, label in emotion]
    )
    negativity = np.concatenate(
        [model.probabilities(datasets.texts_of(rows))[:, model.index("negative")] for rows in (sst2, emotion)]
    )
    calm, upset_values = negativity[~upset], negativity[upset]
    rng = np.random.default_rng(0)
    calm_pairs = (rng.choice(calm, 20_000) + rng.choice(calm, 20_000)) / 2
    upset_pairs = (rng.choice(upset_values, 20_000) + rng.choice(upset_values, 20_000)) / 2
    message = _round_up(np.quantile(calm, 1.0 - calm_false_alarm_rate))
    trend = _round_up(np.quantile(calm_pairs, 1.0 - calm_false_alarm_rate))
    chosen = SentimentThresholds(message=message, trend=trend, smoothing=0.5, min_turns=2)
    detector = SentimentDetector()
    fired = np.array(
        [detector.detect(c, chosen).fired for c in single_turn_conversations(texts, np.zeros((len(texts), 1)), negativity)]
    )  # fmt: skip
    return {
        "chosen": chosen.model_dump(),
        "messages": len(texts),
        "single_message": {
            "recall_upset": float(fired[upset].mean()),
            "false_alarms_calm": float(fired[~upset].mean()),
        },
        "two_turn_trend": {
            "recall_upset_pairs": float((upset_pairs >= trend).mean()),
            "false_alarms_calm_pairs": float((calm_pairs >= trend).mean()),
        },
        "median_negativity": {"calm": float(np.median(calm)), "upset": float(np.median(upset_values))},
    }


def _round_up(value: float) -> float:
    return min(1.0, round(float(np.ceil(float(value) * 100)) / 100, 2))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared data root")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR, help="embedding cache directory")
    parser.add_argument(
        "--weights",
        type=Path,
        default=SENTIMENT_BRANCH_WEIGHTS,
        help="a branch (.safetensors) or an embedding head (.npz)",
    )
    parser.add_argument("--select", action="store_true", help="measure threshold defaults on validation data")
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="the pass to measure (fp32 or onnx-int8)")
    args = parser.parse_args(argv)
    # The pass runs the branch being measured (the shipped one when --weights names an embedding head).
    branch_weights = args.weights if args.weights.suffix == ".safetensors" else SENTIMENT_BRANCH_WEIGHTS
    encoder, branch = offline_pass(args.backend, branch_weights=branch_weights)
    if args.select:
        report = select_thresholds(args.data, encoder, branch, args.cache, args.weights)
    else:
        report = evaluate(
            args.data, encoder, branch, args.cache, args.weights, baseline=HeadWeights.of(args.backend).sentiment
        )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
