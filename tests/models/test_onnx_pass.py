"""The ONNX Runtime pass computes what the torch pass computes, exports once per set of weights, and only
serves the branch it was exported with; the service falls back to torch when it cannot be built."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from models.heads import SENTIMENT_BRANCH_WEIGHTS

pytestmark = pytest.mark.slow

# Texts of very different lengths, one past the encoder's 256-token cut.
TEXTS = [
    "Where is my parcel?",
    "ok",
    "This is the third time I ask, and nobody has answered me. I am furious!",
    "I don't need an agent, thanks",
    "refund " * 400,
]


@pytest.fixture(scope="module")
def branch(encoder):  # type: ignore[no-untyped-def]
    return encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS)


@pytest.fixture(scope="module")
def onnx_pass(encoder, branch, model_cache):  # type: ignore[no-untyped-def]
    from models.onnx_pass import OnnxPass

    return OnnxPass(encoder, branch, model_cache / "onnx")


def test_the_onnx_pass_gives_what_the_torch_pass_gives(encoder, branch, onnx_pass) -> None:  # type: ignore[no-untyped-def]
    expected_embeddings, expected_probabilities = encoder.encode_with_branch(TEXTS, branch)
    before = onnx_pass.batches["onnx"]
    embeddings, probabilities = onnx_pass.encode_with_branch(TEXTS, branch)
    assert onnx_pass.batches["onnx"] == before + 1  # it really ran on ONNX Runtime
    np.testing.assert_allclose(embeddings, expected_embeddings, atol=1e-5)
    np.testing.assert_allclose(probabilities, expected_probabilities, atol=1e-5)
    np.testing.assert_allclose(onnx_pass.encode(TEXTS[:1]), expected_embeddings[:1], atol=1e-5)
    # Not a constant graph: the angry message reads as negative and the others do not.
    negative = probabilities[:, branch.index("negative")]
    assert negative[2] > 0.8 and negative[0] < 0.5


def test_large_batches_run_on_torch_and_keep_their_order(encoder, branch, onnx_pass) -> None:  # type: ignore[no-untyped-def]
    from models.onnx_pass import ONNX_MAX_BATCH

    texts = [f"{text} ({n})" for n in range(3) for text in TEXTS]
    limit = min(ONNX_MAX_BATCH, len(texts) - 1)
    before = dict(onnx_pass.batches)
    embeddings, _ = onnx_pass.encode_with_branch(texts, branch, onnx_max_batch=limit)
    assert onnx_pass.batches == {"onnx": before["onnx"], "torch": before["torch"] + 1}
    one_at_a_time = np.concatenate([onnx_pass.encode_with_branch([text], branch)[0] for text in texts])
    np.testing.assert_allclose(embeddings, one_at_a_time, atol=1e-5)


def test_the_onnx_pass_of_nothing_is_empty(onnx_pass, branch) -> None:  # type: ignore[no-untyped-def]
    embeddings, probabilities = onnx_pass.encode_with_branch([], branch)
    assert embeddings.shape == (0, onnx_pass.dim) and probabilities.shape == (0, len(branch.classes))


def test_the_export_is_reused_and_other_weights_get_their_own(encoder, branch, onnx_pass, model_cache) -> None:  # type: ignore[no-untyped-def]
    from models.onnx_pass import OnnxPass, export_key

    written = onnx_pass.path.stat().st_mtime_ns
    again = OnnxPass(encoder, encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS), model_cache / "onnx")
    assert again.path == onnx_pass.path and again.path.stat().st_mtime_ns == written

    retrained = encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS)
    with torch.no_grad():
        retrained.classifier.bias.add_(0.5)
    assert export_key(encoder, retrained) != export_key(encoder, branch)


def test_a_damaged_cached_export_is_exported_afresh(encoder, branch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from models.onnx_pass import OnnxPass, export_path

    damaged = export_path(encoder, branch, tmp_path)
    damaged.write_bytes(b"half of an onnx file")
    rebuilt = OnnxPass(encoder, branch, tmp_path)
    assert rebuilt.path == damaged and damaged.stat().st_size > 1_000_000
    expected, _ = encoder.encode_with_branch(TEXTS[:2], branch)
    np.testing.assert_allclose(rebuilt.encode(TEXTS[:2]), expected, atol=1e-5)


def test_the_onnx_pass_refuses_a_branch_it_was_not_exported_with(encoder, onnx_pass) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="exported with another branch"):
        onnx_pass.encode_with_branch(["hello"], encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS))


def test_the_service_serves_with_torch_when_the_onnx_pass_cannot_be_built(encoder, branch, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    from escalator.analysis import onnx_or_torch

    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the export cache should go")
    with caplog.at_level(logging.WARNING, logger="escalator"):
        live_pass = onnx_or_torch(encoder, branch, blocked, threads=1)
    assert live_pass is encoder
    assert "serving with the torch pass" in caplog.text


def test_the_service_runs_the_onnx_pass_by_default(encoder, model_cache) -> None:  # type: ignore[no-untyped-def]
    """The app-level tests run on the default backend: this one fails if that ever falls back to torch unseen."""
    from bot.config import STORE_KNOWLEDGE_BASE as DEMO_KNOWLEDGE_BASE
    from bot.knowledge_base import load_knowledge_base
    from escalator.analysis import build_analyzer
    from models.config import ModelSettings
    from models.onnx_pass import OnnxPass

    analyzer = build_analyzer(encoder, load_knowledge_base(DEMO_KNOWLEDGE_BASE), model_cache, ModelSettings().backend)
    assert isinstance(analyzer.encoder, OnnxPass)
    assert analyzer.analyze(["I want to talk to a person"])[0].human_request > 0.5
