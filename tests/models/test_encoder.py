"""The real encoder's one-pass feature API agrees with `encode`."""

from __future__ import annotations

import numpy as np
import pytest

TEXTS = ["Where is my parcel?", "This is the third time I ask, I am furious!", "ok"]


@pytest.mark.slow
def test_encode_with_features_returns_encode_embeddings_and_every_layer(encoder) -> None:  # type: ignore[no-untyped-def]
    embeddings, layer_means = encoder.encode_with_features(TEXTS, batch_size=2)
    np.testing.assert_allclose(embeddings, encoder.encode(TEXTS), atol=1e-5)
    assert layer_means.shape == (len(TEXTS), encoder.layers + 1, encoder.dim) and layer_means.dtype == np.float32
    last = layer_means[:, -1] / np.linalg.norm(layer_means[:, -1], axis=1, keepdims=True)
    np.testing.assert_allclose(last, embeddings, atol=1e-5)  # the embedding is the normalised last layer
    assert not np.allclose(layer_means[:, 2], layer_means[:, -1])  # intermediate layers differ from it


@pytest.mark.slow
def test_encode_with_features_of_nothing_is_empty(encoder) -> None:  # type: ignore[no-untyped-def]
    embeddings, layer_means = encoder.encode_with_features([])
    assert embeddings.shape == (0, encoder.dim) and layer_means.shape == (0, encoder.layers + 1, encoder.dim)
