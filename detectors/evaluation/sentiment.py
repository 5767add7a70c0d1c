"""How well the sentiment head reads negativity, with VADER's figures beside ours.

- TweetEval-sentiment test: 3-class macro-averaged recall (the task's official metric);
- SST-2 test: binary accuracy (positive vs negative probability, neutral ignored);
- Twitter US airline sentiment, all 14,640 tweets: AUROC of P(negative) for negative vs the rest
  (non-commercial licence: evaluation only, the head never trains on it).

`select_thresholds` measures the detector's single-message and trend defaults on validation data the
head never saw: SST-2 dev and TweetEval-emotion val (anger/sadness as negative, joy/optimism not).

    python -m detectors.evaluation.sentiment --data /path/to/shared/data [--select]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from detectors.evaluation import single_turn_conversations
from detectors.sentiment import SentimentDetector
from detectors.thresholds import SentimentThresholds
from models import datasets
from models.embedding_cache import DEFAULT_CACHE_DIR, embed_cached
from models.encoder import FeatureEncoder
from models.feature_cache import DEFAULT_FEATURE_CACHE_DIR, layer_means_cached
from models.heads import LAYER_MEANS, SENTIMENT_WEIGHTS, LinearHead, load_head

LABELS = datasets.SENTIMENT_LABELS  # negative, neutral, positive


def macro_recall(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean over the classes present in `truth` of the share of that class predicted correctly."""
    truth_array, predicted_array = np.asarray(truth), np.asarray(predicted)
    classes = sorted(set(truth_array.tolist()))
    return float(np.mean([(predicted_array[truth_array == c] == c).mean() for c in classes]))


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


def evaluate(
    data_root: Path,
    encoder: FeatureEncoder,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    weights: Path = SENTIMENT_WEIGHTS,
    with_vader: bool = True,
    feature_cache_dir: Path | None = DEFAULT_FEATURE_CACHE_DIR,
) -> dict[str, object]:
    """Test-set figures of the shipped sentiment head, and of VADER on the same texts."""
    head = load_head(weights)
    tweets = datasets.load_tweeteval_sentiment(data_root)["test"]
    sst2 = datasets.load_sst2(data_root)["test"]
    airline = datasets.load_twitter_airline(data_root)
    tweet_labels = [label for _, label in tweets]
    sst2_positive = np.array([label == "positive" for _, label in sst2])
    airline_negative = np.array([label == "negative" for _, label in airline])

    tweet_p = _probabilities(head, encoder, datasets.texts_of(tweets), cache_dir, feature_cache_dir)
    sst2_p = _probabilities(head, encoder, datasets.texts_of(sst2), cache_dir, feature_cache_dir)
    airline_p = _probabilities(head, encoder, datasets.texts_of(airline), cache_dir, feature_cache_dir)
    negative, positive = head.index("negative"), head.index("positive")
    result: dict[str, object] = _figures(
        tweet_labels,
        [head.classes[i] for i in tweet_p.argmax(axis=1)],
        sst2_positive,
        sst2_p[:, positive] >= sst2_p[:, negative],
        airline_negative,
        airline_p[:, negative],
    )
    result["head"] = f"{head.kind} over {head.dim}-d {head.reads}"
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
    encoder: FeatureEncoder,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    weights: Path = SENTIMENT_WEIGHTS,
    calm_false_alarm_rate: float = 0.02,
    feature_cache_dir: Path | None = DEFAULT_FEATURE_CACHE_DIR,
) -> dict[str, object]:
    """Pick the message and trend thresholds by their false-alarm rate on calm validation messages.

    `message`: the lowest value (to 0.01) at which at most `calm_false_alarm_rate` of non-negative
    messages fire on their own. `trend`: with smoothing 0.5 and two customer turns the trend is the mean
    of the two messages' negativity, so it is the lowest value at which at most the same share of random
    pairs of calm messages fire. Recall is reported on single upset messages and on random upset pairs.
    """
    head = load_head(weights)
    sst2 = datasets.load_sst2(data_root)["dev"]
    emotion = datasets.load_tweeteval_emotion(data_root)["val"]
    texts = datasets.texts_of(sst2) + datasets.texts_of(emotion)
    upset = np.array([label == "negative" for _, label in sst2] + [label in ("anger", "sadness") for _, label in emotion])
    negativity = np.concatenate(
        [
            _probabilities(head, encoder, datasets.texts_of(rows), cache_dir, feature_cache_dir)[:, head.index("negative")]
            for rows in (sst2, emotion)
        ]
    )  # fmt: skip
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
        "single_message": {"recall_upset": float(fired[upset].mean()), "false_alarms_calm": float(fired[~upset].mean())},
        "two_turn_trend": {
            "recall_upset_pairs": float((upset_pairs >= trend).mean()),
            "false_alarms_calm_pairs": float((calm_pairs >= trend).mean()),
        },
        "median_negativity": {"calm": float(np.median(calm)), "upset": float(np.median(upset_values))},
    }


def _round_up(value: float) -> float:
    return min(1.0, round(float(np.ceil(float(value) * 100)) / 100, 2))


def _probabilities(
    head: LinearHead, encoder: FeatureEncoder, texts: list[str], cache_dir: Path | None, feature_cache_dir: Path | None
) -> np.ndarray:
    """The head's probabilities on what it reads: sentence embeddings, or the same pass's layer means."""
    if head.reads == LAYER_MEANS:
        return head.predict_proba(layer_means_cached(encoder, texts, feature_cache_dir))
    return head.predict_proba(embed_cached(encoder, texts, cache_dir))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared data root")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR, help="embedding cache directory")
    parser.add_argument("--feature-cache", type=Path, default=DEFAULT_FEATURE_CACHE_DIR, help="layer-means cache directory")
    parser.add_argument("--weights", type=Path, default=SENTIMENT_WEIGHTS)
    parser.add_argument("--select", action="store_true", help="measure threshold defaults on validation data")
    args = parser.parse_args(argv)
    from models.encoder import SentenceEncoder

    encoder = SentenceEncoder()
    if args.select:
        report = select_thresholds(args.data, encoder, args.cache, args.weights, feature_cache_dir=args.feature_cache)
    else:
        report = evaluate(args.data, encoder, args.cache, args.weights, feature_cache_dir=args.feature_cache)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
