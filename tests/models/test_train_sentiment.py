"""Fitting the sentiment head on layer means: a separable toy set, with standardisation shipped in the head."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.heads import LayerMeansHead, load_head
from models.train_sentiment import fit_head, source_weights


def test_fit_head_learns_from_the_chosen_layers_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.array(["negative", "neutral", "positive"] * 40)
    layer_means = rng.normal(size=(len(labels), 4, 3)).astype(np.float32)
    # Layer 2 carries the label (offset far from zero), layer 3 is noise the head may also read.
    layer_means[:, 2, 0] = 50.0 + 10.0 * (labels == "positive") - 10.0 * (labels == "negative")
    layer_means[:, 0, :] = 0.0  # layer 0 would say nothing, and is not read
    head = fit_head(layer_means, labels.tolist(), np.ones(len(labels)), layers=(2, 3), c=10.0)
    head.save(tmp_path / "sentiment.npz")
    loaded = load_head(tmp_path / "sentiment.npz")
    assert isinstance(loaded, LayerMeansHead) and loaded.layers.tolist() == [2, 3] and loaded.dim == 6
    predicted = np.array(loaded.classes)[loaded.predict_proba(layer_means).argmax(axis=1)]
    assert (predicted == labels).mean() > 0.95
    assert abs(float(loaded.mean[0]) - 50.0) < 1.0  # standardisation is part of the shipped head


def test_source_weights_give_each_source_its_share() -> None:
    weights = source_weights({"big": 300, "small": 100}, {"big": 0.5, "small": 0.5})
    assert weights[:300].sum() == weights[300:].sum() == 200.0
