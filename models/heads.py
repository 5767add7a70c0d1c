"""Cheap classifier heads over the shared encoder's output: plain numpy arrays, numpy-only inference.

Every head reads the sentence embedding (n, dim). Training may use scikit-learn; what ships is a `.npz`
of plain arrays (class names as a unicode array), loadable without pickle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray


class HeadFormatError(ValueError):
    """A head's arrays or weights file are inconsistent."""


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)  # avoids overflow in exp
    exp = np.exp(shifted)
    probabilities: np.ndarray = exp / exp.sum(axis=-1, keepdims=True)
    return probabilities


class LinearHead:
    """Multinomial logistic regression: softmax(x W^T + b) over `classes`."""

    kind = "linear"

    def __init__(self, weights: np.ndarray, bias: np.ndarray, classes: tuple[str, ...]) -> None:
        weights = np.asarray(weights, dtype=np.float32)
        bias = np.asarray(bias, dtype=np.float32)
        if weights.ndim != 2 or bias.shape != (weights.shape[0],) or len(classes) != weights.shape[0]:
            raise HeadFormatError(f"weights {weights.shape}, bias {bias.shape} and {len(classes)} classes do not agree")
        self.weights: NDArray[np.float32] = weights
        self.bias: NDArray[np.float32] = bias
        self.classes = tuple(str(c) for c in classes)

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def index(self, name: str) -> int:
        """Column of class `name` in `predict_proba`'s output."""
        try:
            return self.classes.index(name)
        except ValueError:
            raise LookupError(f"class {name!r} not in {self.classes}") from None

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return np.atleast_2d(np.asarray(embeddings, dtype=np.float32)) @ self.weights.T + self.bias

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, d) embeddings -> (n, k) class probabilities, columns in `classes` order."""
        return softmax(self.logits(embeddings))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "bias": self.bias}

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # allow_pickle is named so that no array can bind to it; none is an object array, so nothing is pickled anyway.
        np.savez(
            path,
            allow_pickle=False,
            kind=np.array(self.kind),
            classes=np.array(self.classes, dtype=np.str_),
            **self._arrays(),
        )

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        head = load_head(path)
        if type(head) is not cls:
            raise HeadFormatError(f"{path} holds a {head.kind} head, not a {cls.kind} one")
        return head


class MLPHead(LinearHead):
    """One hidden ReLU layer, then the softmax layer: softmax(relu(x W1^T + b1) W^T + b)."""

    kind = "mlp"

    def __init__(
        self,
        hidden_weights: np.ndarray,
        hidden_bias: np.ndarray,
        weights: np.ndarray,
        bias: np.ndarray,
        classes: tuple[str, ...],
    ) -> None:
        super().__init__(weights, bias, classes)
        hidden_weights = np.asarray(hidden_weights, dtype=np.float32)
        hidden_bias = np.asarray(hidden_bias, dtype=np.float32)
        if hidden_weights.ndim != 2 or hidden_bias.shape != (hidden_weights.shape[0],):
            raise HeadFormatError(f"hidden weights {hidden_weights.shape} and bias {hidden_bias.shape} disagree")
        if hidden_weights.shape[0] != self.weights.shape[1]:
            raise HeadFormatError(
                f"hidden layer has {hidden_weights.shape[0]} units, output layer expects {self.weights.shape[1]}"
            )
        self.hidden_weights: NDArray[np.float32] = hidden_weights
        self.hidden_bias: NDArray[np.float32] = hidden_bias

    @property
    def dim(self) -> int:
        return int(self.hidden_weights.shape[1])

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        hidden: NDArray[np.float32] = np.maximum(x @ self.hidden_weights.T + self.hidden_bias, 0.0)
        return hidden @ self.weights.T + self.bias

    def _arrays(self) -> dict[str, np.ndarray]:
        return {**super()._arrays(), "hidden_weights": self.hidden_weights, "hidden_bias": self.hidden_bias}


def load_head(path: Path) -> LinearHead:
    """Load whichever head `path` holds (linear or MLP), from plain arrays only."""
    with np.load(Path(path), allow_pickle=False) as arrays:
        kind = str(arrays["kind"]) if "kind" in arrays else LinearHead.kind
        classes = tuple(str(c) for c in arrays["classes"])
        if kind == LinearHead.kind:
            return LinearHead(arrays["weights"], arrays["bias"], classes)
        if kind == MLPHead.kind:
            return MLPHead(arrays["hidden_weights"], arrays["hidden_bias"], arrays["weights"], arrays["bias"], classes)
    raise HeadFormatError(f"{path}: unknown head kind {kind!r}")


WEIGHTS_DIR = Path(__file__).parent / "weights"
# Linear over the 384-d embedding: the cheap baseline the sentiment branch (models.sentiment_branch) replaced.
SENTIMENT_WEIGHTS = WEIGHTS_DIR / "sentiment.npz"
HUMAN_REQUEST_WEIGHTS = WEIGHTS_DIR / "human_request.npz"
SENTIMENT_BRANCH_WEIGHTS = WEIGHTS_DIR / "sentiment_branch.safetensors"  # see models.sentiment_branch


class ClassProbability:
    """One class's probability from a head: the `(n, dim) -> (n,)` callable the Analyzer takes."""

    def __init__(self, head: LinearHead, name: str) -> None:
        self.head = head
        self.column = head.index(name)

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return self.head.predict_proba(inputs)[:, self.column]


def human_request(path: Path = HUMAN_REQUEST_WEIGHTS) -> ClassProbability:
    """P(asks for a person) from the shipped human-request head."""
    return ClassProbability(load_head(path), "human_request")
