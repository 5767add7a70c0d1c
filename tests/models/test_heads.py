"""The numpy heads: probabilities by hand, and a save/load round trip through plain arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.heads import (
    ClassProbability,
    HeadFormatError,
    LinearHead,
    MLPHead,
    load_head,
    softmax,
)


def test_linear_head_is_a_softmax_of_the_affine_map() -> None:
    head = LinearHead(
        np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), np.array([0.0, 0.0, np.log(2.0)]), ("a", "b", "c")
    )
    probabilities = head.predict_proba(np.array([[0.0, 0.0], [np.log(6.0), 0.0]]))
    # Row 1: logits (0, 0, log 2) -> (1, 1, 2) / 4. Row 2: (log 6, 0, log 2) -> (6, 1, 2) / 9.
    np.testing.assert_allclose(probabilities, [[0.25, 0.25, 0.5], [6 / 9, 1 / 9, 2 / 9]], rtol=1e-6)


def test_softmax_survives_huge_logits() -> None:
    np.testing.assert_allclose(softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]])


def test_mlp_head_applies_relu_before_the_output_layer() -> None:
    head = MLPHead(
        hidden_weights=np.array([[1.0], [-1.0]]),
        hidden_bias=np.zeros(2),
        weights=np.array([[1.0, 0.0], [0.0, 1.0]]),
        bias=np.zeros(2),
        classes=("up", "down"),
    )
    # x = 2: hidden (2, 0) -> logits (2, 0); x = -2: hidden (0, 2) -> logits (0, 2).
    probabilities = head.predict_proba(np.array([[2.0], [-2.0]]))
    expected_up = 1 / (1 + np.exp(-2.0))
    np.testing.assert_allclose(probabilities[:, 0], [expected_up, 1 - expected_up], rtol=1e-6)


@pytest.mark.parametrize(
    "head",
    [
        LinearHead(np.arange(6.0).reshape(3, 2) / 10, np.array([0.1, -0.2, 0.3]), ("negative", "neutral", "positive")),
        MLPHead(
            np.ones((4, 2)) / 3,
            np.arange(4.0) / 5,
            np.arange(8.0).reshape(2, 4) / 7,
            np.zeros(2),
            ("other", "human_request"),
        ),
    ],
)
def test_save_and_load_round_trip_without_pickle(head: LinearHead, tmp_path: Path) -> None:
    path = tmp_path / "weights" / "head.npz"
    head.save(path)
    loaded = load_head(path)
    assert type(loaded) is type(head)
    assert loaded.classes == head.classes
    embeddings = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict_proba(embeddings), head.predict_proba(embeddings), rtol=1e-6)
    with np.load(path, allow_pickle=False) as arrays:  # plain arrays only: loading refuses pickles
        assert arrays["classes"].dtype.kind == "U"


def test_linear_load_refuses_an_mlp_file(tmp_path: Path) -> None:
    MLPHead(np.ones((2, 2)), np.zeros(2), np.ones((2, 2)), np.zeros(2), ("a", "b")).save(tmp_path / "mlp.npz")
    with pytest.raises(HeadFormatError, match="mlp head"):
        LinearHead.load(tmp_path / "mlp.npz")


def test_inconsistent_shapes_are_refused() -> None:
    with pytest.raises(HeadFormatError, match="do not agree"):
        LinearHead(np.ones((2, 3)), np.zeros(3), ("a", "b"))
    with pytest.raises(HeadFormatError, match="units"):
        MLPHead(np.ones((4, 3)), np.zeros(4), np.ones((2, 5)), np.zeros(2), ("a", "b"))


def test_class_probability_picks_one_column_and_unknown_classes_fail() -> None:
    head = LinearHead(np.array([[0.0], [1.0]]), np.zeros(2), ("other", "human_request"))
    probability = ClassProbability(head, "human_request")
    np.testing.assert_allclose(probability(np.array([[0.0], [100.0]])), [0.5, 1.0])
    with pytest.raises(LookupError, match="'angry' not in"):
        ClassProbability(head, "angry")
