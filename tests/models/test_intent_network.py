"""The intent model's blend of a linear model and small ReLU networks, on synthetic clusters."""

from __future__ import annotations

import numpy as np
import pytest

from models.intent import IntentModel

DIM = 16


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def around(centre: np.ndarray, count: int, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(scale=0.1 / np.sqrt(DIM), size=(count, DIM))
    return unit(centre + noise).astype(np.float32)


def opposite_pairs(count: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Intent ab lives at +e0 and -e0, cd at +e1 and -e1: no linear boundary separates them (XOR-like)."""
    e0, e1 = np.eye(DIM)[0], np.eye(DIM)[1]
    rows = [around(centre, count, seed + i) for i, centre in enumerate((e0, -e0, e1, -e1))]
    return np.vstack(rows), ["ab"] * 2 * count + ["cd"] * 2 * count


def accuracy(model: IntentModel, x: np.ndarray, labels: list[str]) -> float:
    predicted = np.array(model.intents)[model.logits(x).argmax(1)]
    return float((predicted == np.array(labels)).mean())


@pytest.fixture(scope="module")
def clusters() -> tuple[np.ndarray, list[str]]:
    return opposite_pairs(40, seed=0)


def test_the_networks_learn_a_boundary_the_linear_model_cannot() -> None:
    training, queries = opposite_pairs(100, seed=0), opposite_pairs(25, seed=100)
    linear_only = IntentModel.fit(*training, epochs=0)
    # A few hundred examples make few minibatches per epoch, so this toy needs many epochs.
    blended = IntentModel.fit(*training, hidden=64, epochs=100, network_weight=2.0)
    assert accuracy(linear_only, *queries) <= 0.75
    assert accuracy(blended, *queries) >= 0.9


def test_network_weight_scales_only_the_networks_share_of_the_logits(clusters) -> None:
    queries, _ = opposite_pairs(5, seed=200)
    logits = {w: IntentModel.fit(*clusters, epochs=20, network_weight=w).logits(queries) for w in (0.0, 0.5, 1.0)}
    networks_share = logits[1.0] - logits[0.0]
    assert np.abs(networks_share).max() > 0.1
    np.testing.assert_allclose(logits[0.5] - logits[0.0], networks_share / 2, atol=1e-6)


def test_probabilities_are_the_softmax_of_the_logits_over_the_temperature(clusters) -> None:
    model = IntentModel.fit(*clusters, epochs=20)
    queries, _ = opposite_pairs(5, seed=300)
    scaled = model.logits(queries) / model.temperature
    expected = np.exp(scaled - scaled.max(1, keepdims=True))
    np.testing.assert_allclose(model.probabilities(queries), expected / expected.sum(1, keepdims=True), rtol=1e-9)


def test_the_seed_fixes_the_networks(clusters) -> None:
    queries, _ = opposite_pairs(5, seed=400)
    first, again = (IntentModel.fit(*clusters, epochs=20, seed=0).logits(queries) for _ in range(2))
    other = IntentModel.fit(*clusters, epochs=20, seed=1).logits(queries)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
