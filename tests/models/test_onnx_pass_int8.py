"""The int8 ONNX pass: quantized once beside the fp32 export and reused, rebuilt when damaged, run on every batch
size one message at a time, and naming its own features; on a tiny graph in place of the export, no model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.encoder import FP32_FEATURES
from models.onnx_pass import OnnxPass, export_path
from models.quantized_pass import features_name, quantized_path
from tests.models.tiny_pass import TinyBranch, TinyEncoder, write_tiny_pass

TEXTS = ["where is my parcel", "ok", "this is the third time I ask and nobody answers me", "refund please"]


@pytest.fixture
def encoder() -> TinyEncoder:
    return TinyEncoder()


@pytest.fixture
def branch() -> TinyBranch:
    return TinyBranch()


@pytest.fixture
def exported(encoder: TinyEncoder, branch: TinyBranch, tmp_path: Path) -> Path:
    """The tiny graph where the export of this encoder and branch is cached, as if a first start had exported it."""
    path = export_path(encoder, branch, tmp_path)  # type: ignore[arg-type]
    write_tiny_pass(path)
    return path


def int8_pass(encoder: TinyEncoder, branch: TinyBranch, cache: Path) -> OnnxPass:
    return OnnxPass(encoder, branch, cache, precision="int8")  # type: ignore[arg-type]


def test_the_int8_graph_is_quantized_once_beside_the_export_and_then_reused(encoder, branch, exported) -> None:
    first = int8_pass(encoder, branch, exported.parent)
    assert first.path == quantized_path(exported) and first.path.exists() and exported.exists()
    written = first.path.stat().st_mtime_ns
    again = int8_pass(encoder, branch, exported.parent)
    assert again.path == first.path and again.path.stat().st_mtime_ns == written


def test_the_int8_pass_names_its_own_features_and_the_fp32_pass_those_of_torch(encoder, branch, exported) -> None:
    assert int8_pass(encoder, branch, exported.parent).features == features_name(exported) != FP32_FEATURES
    assert OnnxPass(encoder, branch, exported.parent).features == FP32_FEATURES  # type: ignore[arg-type]


def test_a_damaged_int8_file_is_quantized_afresh(encoder, branch, exported) -> None:
    damaged = quantized_path(exported)
    damaged.write_bytes(b"half of an onnx file")
    rebuilt = int8_pass(encoder, branch, exported.parent)
    assert rebuilt.path == damaged and damaged.stat().st_size > 1_000
    assert rebuilt.encode(TEXTS[:1]).shape == (1, encoder.dim)


def test_every_batch_runs_on_the_int8_graph_each_message_as_if_alone(encoder, branch, exported) -> None:
    live = int8_pass(encoder, branch, exported.parent)
    texts = [f"{text} {n}" for n in range(3) for text in TEXTS]
    # A limit the batch is over: the fp32 pass would send it to torch (which the tiny encoder forbids).
    embeddings, probabilities = live.encode_with_branch(texts, branch, onnx_max_batch=len(texts) - 1)  # type: ignore[arg-type]
    assert live.batches == {"onnx": 1, "torch": 0}
    for i, text in enumerate(texts):
        alone_embedding, alone_probabilities = live.encode_with_branch([text], branch)  # type: ignore[arg-type]
        np.testing.assert_array_equal(embeddings[i], alone_embedding[0])
        np.testing.assert_array_equal(probabilities[i], alone_probabilities[0])


def test_sentences_are_pooled_from_each_message_s_own_run(encoder, branch, exported) -> None:
    live = int8_pass(encoder, branch, exported.parent)
    texts = ["ok", "it broke again. I want a refund now"]
    spans = [(), ((0, 15), (16, 35))]
    _, _, sentences = live.encode_with_sentences(texts, branch, spans)  # type: ignore[arg-type]
    assert sentences[0].shape == (0, encoder.dim) and sentences[1].shape == (2, encoder.dim)
    _, _, alone = live.encode_with_sentences(texts[1:], branch, spans[1:])  # type: ignore[arg-type]
    np.testing.assert_array_equal(sentences[1], alone[0])
