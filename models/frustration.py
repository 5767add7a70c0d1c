"""Frustration: how frustrated the customer sounds, judged against what this deployment's routine messages sound like.

Two parts:

- `FrustrationHead`, shipped in `models/weights/frustration.npz` (trained by models.train_frustration): a
  logistic regression over the sentence embedding and the sentiment branch's log-odds, both from the one pass,
  which tells frustration from a calm problem report.
- `FrustrationBaseline`, fitted at start-up: the head's log-odds on the knowledge base's own example questions,
  per intent (shrunk towards the deployment's median). Where a deployment's routine questions on a topic sound
  more frustrated than routine support requests in general (the head's `reference`, measured on its training
  negatives), that excess is taken off any message matched to that topic. It never adds: a quiet topic
  ("thanks") does not make frustration easier to reach. This is the per-deployment calibration, as the intent
  model's out-of-scope score is calibrated on the knowledge base.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

FRUSTRATION_WEIGHTS = Path(__file__).parent / "weights" / "frustration.npz"
SHRINK_EXAMPLES = 5.0  # an intent's own mean counts against this many examples' worth of the deployment median
_EPSILON = 1e-4


def log_odds(probability: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probability, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return np.log(p / (1 - p))


class FrustrationHead:
    """log-odds of frustration = [embedding, log-odds of the branch's classes] . weights + bias."""

    def __init__(self, weights: np.ndarray, bias: float, reference: float) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = float(bias)
        self.reference = float(reference)  # median log-odds of routine support requests in training

    @staticmethod
    def inputs(embeddings: np.ndarray, branch_probabilities: np.ndarray) -> np.ndarray:
        return np.hstack([np.asarray(embeddings, np.float32), log_odds(branch_probabilities).astype(np.float32)])

    def log_odds(self, embeddings: np.ndarray, branch_probabilities: np.ndarray) -> np.ndarray:
        """(n,) log-odds that each message is frustrated."""
        return self.inputs(embeddings, branch_probabilities) @ self.weights + self.bias

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, weights=self.weights, bias=np.array(self.bias), reference=np.array(self.reference))

    @classmethod
    def load(cls, path: Path = FRUSTRATION_WEIGHTS) -> FrustrationHead:
        with np.load(path, allow_pickle=False) as arrays:
            return cls(arrays["weights"], float(arrays["bias"]), float(arrays["reference"]))


class FrustrationBaseline:
    """How frustrated one knowledge base's routine questions sound, per intent, in log-odds."""

    def __init__(self, baselines: dict[str, float], median: float, reference: float) -> None:
        self.baselines = baselines
        self.median = median
        self.reference = reference

    @classmethod
    def fit(cls, example_log_odds: Sequence[float], intents: Sequence[str], reference: float) -> FrustrationBaseline:
        """From the head's log-odds on each knowledge-base example and the intent it belongs to."""
        if len(example_log_odds) != len(intents) or not intents:
            raise ValueError("need one value per example, and at least one example")
        odds = np.asarray(example_log_odds, dtype=np.float64)
        median = float(np.median(odds))
        names = np.asarray(intents)
        baselines = {
            name: float(
                (odds[names == name].sum() + SHRINK_EXAMPLES * median) / ((names == name).sum() + SHRINK_EXAMPLES)
            )
            for name in dict.fromkeys(intents)
        }
        return cls(baselines, median, reference)

    def excess(self, intents: Sequence[tuple[str, float]], out_of_scope: float) -> float:
        """How much more frustrated than routine support requests a routine message on these intents sounds (>= 0)."""
        weight = sum(p for name, p in intents if name in self.baselines)
        topical = (
            sum(p * self.baselines[name] for name, p in intents if name in self.baselines) / weight
            if weight > 0
            else self.median
        )
        far = min(1.0, max(0.0, out_of_scope))  # far from every intent: only the deployment's median applies
        return max(0.0, (1 - far) * topical + far * self.median - self.reference)

    def frustration(self, log_odds_value: float, intents: Sequence[tuple[str, float]], out_of_scope: float) -> float:
        """0..1, the head's judgement with this deployment's routine excess taken off."""
        return float(1.0 / (1.0 + np.exp(-(log_odds_value - self.excess(intents, out_of_scope)))))
