"""The real encoder's one-pass branch API agrees with `encode`, and a branch runs on the pass's own hidden state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.sentiment_branch import SentimentBranch

TEXTS = ["Where is my parcel?", "This is the third time I ask, I am furious!", "ok"]


class LastLayerProbe(SentimentBranch):
    """An untouched copy of the encoder's top layers: its pooled output must be the pass's own last layer."""

    def probabilities(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(self.pooled(hidden, attention_mask), dim=1)


@pytest.mark.slow
def test_encode_with_branch_returns_encode_embeddings_and_the_branch_output(encoder) -> None:  # type: ignore[no-untyped-def]
    probe = LastLayerProbe.from_encoder(encoder.transformer, 2, tuple(f"d{i}" for i in range(encoder.dim))).eval()
    embeddings, outputs = encoder.encode_with_branch(TEXTS, probe, batch_size=2)
    np.testing.assert_allclose(embeddings, encoder.encode(TEXTS), atol=1e-5)
    # Run from the fork at layer 4 with the encoder's own layers 5 and 6, the branch lands on the embedding:
    # proof that it reads the right hidden state, with the right mask, from the same pass.
    np.testing.assert_allclose(outputs, embeddings, atol=1e-4)


@pytest.mark.slow
def test_the_shipped_branch_loads_onto_the_encoder_and_reads_tone(encoder) -> None:  # type: ignore[no-untyped-def]
    from models.heads import SENTIMENT_BRANCH_WEIGHTS
    from models.train_sentiment import DEPTH

    branch = encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS)
    assert branch.classes == ("negative", "neutral", "positive") and not branch.training
    # The committed weights are what the training script's default depth rebuilds.
    assert len(branch.layers) == DEPTH and branch.from_layer == encoder.transformer.config.num_hidden_layers - DEPTH
    _, probabilities = encoder.encode_with_branch(
        ["Thanks so much, that solved it!", "Worst service ever, I am furious!"], branch
    )
    calm, furious = probabilities[:, branch.index("negative")]
    assert calm < 0.2 < 0.9 < furious
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_encode_with_branch_of_nothing_is_empty(encoder) -> None:  # type: ignore[no-untyped-def]
    from models.heads import SENTIMENT_BRANCH_WEIGHTS

    embeddings, probabilities = encoder.encode_with_branch([], encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS))
    assert embeddings.shape == (0, encoder.dim) and probabilities.shape == (0, 3)


@pytest.mark.slow
def test_a_branch_file_that_does_not_fit_is_refused_by_name(encoder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from safetensors.torch import save_file

    from models.sentiment_branch import BranchFormatError

    save_file({"classifier.weight": torch.zeros(3, 4)}, str(tmp_path / "bare.safetensors"))
    with pytest.raises(BranchFormatError, match="metadata lacks from_layer"):
        encoder.load_branch(tmp_path / "bare.safetensors")
    save_file(
        {"classifier.weight": torch.zeros(3, 4)},
        str(tmp_path / "odd.safetensors"),
        {"from_layer": "4", "classes": "a,b,c"},
    )
    with pytest.raises(BranchFormatError, match="does not fit this encoder"):
        encoder.load_branch(tmp_path / "odd.safetensors")
