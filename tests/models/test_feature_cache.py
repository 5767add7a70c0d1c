"""The layer-means cache: one encoder call per distinct list of texts."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from models.feature_cache import layer_means_cached


class CountingEncoder:
    dim = 2

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("the cache must ask for features, not embeddings")

    def encode_with_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        means = np.array([[[len(t), 0.0]] * 3 for t in texts], dtype=np.float32)
        return means[:, -1], means


def test_the_same_texts_are_encoded_once(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    first = layer_means_cached(encoder, ["a", "bbb"], tmp_path)
    again = layer_means_cached(encoder, ["a", "bbb"], tmp_path)
    other = layer_means_cached(encoder, ["bbb", "a"], tmp_path)
    assert encoder.calls == 2
    np.testing.assert_array_equal(first, again)
    assert first.shape == (2, 3, 2) and other[0, 0, 0] == 3.0


def test_no_cache_dir_always_encodes(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    layer_means_cached(encoder, ["a"], None)
    layer_means_cached(encoder, ["a"], None)
    assert encoder.calls == 2 and not any(tmp_path.iterdir())
