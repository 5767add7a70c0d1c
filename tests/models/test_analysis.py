"""The Analyzer: one encoder pass per batch, the sentiment branch inside it, every head on its embeddings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from models.analysis import Analyzer, DeploymentHeads, MissingFeatures


class FakeBranch:
    """Stands for the sentiment branch: the fake encoder runs it as P(negative) = characters / 100."""

    from_layer = 4
    classes = ("negative", "neutral", "positive")

    def index(self, name: str) -> int:
        return self.classes.index(name)


class FakeEncoder:
    """Embeddings are the text length on one axis; the branch's probabilities come from the same call."""

    dim = 2

    def __init__(self) -> None:
        self.passes: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.passes.append("encode")
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    def encode_with_sentences(
        self, texts: Sequence[str], branch: FakeBranch, spans: Sequence[Sequence[tuple[int, int]]] | None
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        self.passes.append("encode_with_sentences")
        embeddings = np.array([[len(t), 1.0] for t in texts], dtype=np.float32)
        negative = embeddings[:, 0] / 100
        # A sentence's vector: its own length on the first axis, as if pooled from the same pass.
        sentences = [
            np.array([[b - a, 1.0] for a, b in text_spans], np.float32).reshape(-1, 2) for text_spans in spans or []
        ]
        return embeddings, np.stack([negative, 1 - negative, np.zeros_like(negative)], axis=1), sentences


class EmbeddingOnlyEncoder:
    dim = 2

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), 2), dtype=np.float32)


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


def test_the_branch_runs_inside_the_same_single_pass() -> None:
    encoder = FakeEncoder()
    [analysis] = Analyzer(encoder, FakeBranch(), lambda e: e[:, 0] / 200, FakeIntents()).analyze(["abcde"])
    assert encoder.passes == ["encode_with_sentences"]
    assert analysis.negative == pytest.approx(0.05)  # the branch's negative column
    assert analysis.human_request == pytest.approx(0.025)  # the other heads still read the embedding
    np.testing.assert_allclose(analysis.embedding, [5.0, 1.0])


def test_a_branch_needs_an_encoder_that_runs_it_and_callers_that_pass_its_output() -> None:
    with pytest.raises(MissingFeatures, match="EmbeddingOnlyEncoder"):
        Analyzer(EmbeddingOnlyEncoder(), FakeBranch(), by_length, FakeIntents())
    analyzer = Analyzer(FakeEncoder(), FakeBranch(), by_length, FakeIntents())
    with pytest.raises(MissingFeatures, match="branch"):
        analyzer.analyze_embeddings(["hi"], np.ones((1, 2), np.float32))
    [given] = analyzer.analyze_embeddings(["hi"], np.ones((1, 2), np.float32), np.array([[0.7, 0.2, 0.1]]))
    assert given.negative == pytest.approx(0.7)


def test_each_sentence_of_a_longer_message_is_read_on_its_own_from_the_same_pass() -> None:
    encoder = FakeEncoder()
    analyzer = Analyzer(encoder, FakeBranch(), by_length, FakeIntents())
    [single, several] = analyzer.analyze(["where is my order", "My tent came torn. Can I talk to someone?"])
    assert encoder.passes == ["encode_with_sentences"]  # still one pass for both messages
    assert single.sentences == ()
    assert [s.text for s in several.sentences] == ["My tent came torn.", "Can I talk to someone?"]
    # The head reads each sentence's own vector: here, its length / 100.
    assert [s.human_request for s in several.sentences] == pytest.approx([0.18, 0.22])


class TwoSigns:
    """Stands for the stuck-signs head: "fix_failed" scores the first axis / 100, "repeat_contact" a constant."""

    classes = ("fix_failed", "repeat_contact")

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        return np.stack([embeddings[:, 0] / 100, np.full(len(embeddings), 0.05)], axis=1)


def test_sign_scores_take_the_strongest_sentence_and_skip_sentences_too_short_to_tell() -> None:
    analyzer = Analyzer(
        FakeEncoder(), FakeBranch(), by_length, FakeIntents(), deployment=DeploymentHeads(signs=TwoSigns())
    )
    long_sentence = "I tried that already and it did not work at all."
    [analysis] = analyzer.analyze([f"Hi. {long_sentence}"])
    assert analysis.signs[0] == ("fix_failed", pytest.approx(len(f"Hi. {long_sentence}") / 100))
    assert dict(analysis.signs)["repeat_contact"] == pytest.approx(0.05)
    assert analysis.sign("not_a_sign") == 0.0


def test_without_deployment_heads_the_new_fields_stay_empty() -> None:
    [analysis] = Analyzer(FakeEncoder(), FakeBranch(), by_length, FakeIntents()).analyze(["hello there"])
    assert analysis.cases == () and analysis.signs == () and analysis.language == ""
    assert analysis.frustration is None and analysis.upset == analysis.negative
