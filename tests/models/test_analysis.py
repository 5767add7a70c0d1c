"""The Analyzer: one encoder pass per batch, each head fed what it reads."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pytest

from models.analysis import Analyzer, MissingFeatures


class FakeEncoder:
    """Embeddings are the text length on one axis; layer means repeat it, scaled by layer index."""

    dim = 2

    def __init__(self) -> None:
        self.passes: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.passes.append("encode")
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    def encode_with_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        self.passes.append("encode_with_features")
        embeddings = np.array([[len(t), 1.0] for t in texts], dtype=np.float32)
        layers = np.arange(3, dtype=np.float32)[None, :, None]
        return embeddings, embeddings[:, None, :] * layers


class EmbeddingOnlyEncoder:
    dim = 2

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), 2), dtype=np.float32)


class LayerReadingHead:
    """P(negative) = layer 2's first value / 100: it only works if handed layer means."""

    reads = "layer_means"

    def __call__(self, layer_means: np.ndarray) -> np.ndarray:
        assert layer_means.ndim == 3
        return layer_means[:, 2, 0] / 100


class FakeIntents:
    def rank(self, embeddings: np.ndarray, k: int = 3) -> list[tuple[tuple[str, float], ...]]:
        return [(("order_status", 0.9), ("refund", 0.1))[:k] for _ in embeddings]

    def out_of_scope(self, embeddings: np.ndarray) -> np.ndarray:
        return np.full(len(embeddings), 0.25)


def by_length(embeddings: np.ndarray) -> np.ndarray:
    return embeddings[:, 0] / 100


def test_embedding_heads_get_one_plain_pass() -> None:
    encoder = FakeEncoder()
    analyses = Analyzer(encoder, by_length, by_length, FakeIntents()).analyze(["abcd", "ab"])
    assert encoder.passes == ["encode"]
    assert [a.negative for a in analyses] == pytest.approx([0.04, 0.02])
    assert analyses[0].top_intent == "order_status" and analyses[0].out_of_scope == 0.25


def test_a_layer_reading_head_gets_layer_means_from_the_same_single_pass() -> None:
    encoder = FakeEncoder()
    [analysis] = Analyzer(encoder, LayerReadingHead(), by_length, FakeIntents()).analyze(["abcde"])
    assert encoder.passes == ["encode_with_features"]
    assert analysis.negative == pytest.approx(0.10)  # layer 2 = 2 * 5 characters
    assert analysis.human_request == pytest.approx(0.05)  # the other heads still read the embedding
    np.testing.assert_allclose(analysis.embedding, [5.0, 1.0])


def test_a_layer_reading_head_needs_an_encoder_and_callers_that_provide_layer_means() -> None:
    with pytest.raises(MissingFeatures, match="EmbeddingOnlyEncoder"):
        Analyzer(EmbeddingOnlyEncoder(), LayerReadingHead(), by_length, FakeIntents())
    analyzer = Analyzer(FakeEncoder(), LayerReadingHead(), by_length, FakeIntents())
    with pytest.raises(MissingFeatures, match="encode_with_features"):
        analyzer.analyze_embeddings(["hi"], np.ones((1, 2), np.float32))


@pytest.mark.slow
def test_the_shipped_layer_head_reads_the_real_encoders_single_pass(encoder) -> None:  # type: ignore[no-untyped-def]
    from models.heads import SENTIMENT_LAYERS_WEIGHTS, negativity

    analyzer = Analyzer(encoder, negativity(SENTIMENT_LAYERS_WEIGHTS), by_length, FakeIntents())
    calm, furious = analyzer.analyze(["Thanks so much, that solved it!", "Worst service ever, I am furious!"])
    assert calm.negative < 0.2 < 0.9 < furious.negative
    np.testing.assert_allclose(calm.embedding, encoder.encode(["Thanks so much, that solved it!"])[0], atol=1e-5)
