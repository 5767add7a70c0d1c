"""The int8 version of the exported pass: written beside the export, named by it, close to it; on a tiny graph."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import onnxruntime

from models.encoder import FP32_FEATURES
from models.quantized_pass import features_name, quantize, quantized_path
from tests.models.tiny_pass import TinyEncoder, write_tiny_pass


def run(path: Path, texts: list[str]) -> list[np.ndarray]:
    ids, mask, _ = TinyEncoder().tokenize_with_offsets(texts)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs: list[np.ndarray] = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
    return outputs


def test_the_int8_graph_is_written_beside_the_export_and_computes_nearly_the_same(tmp_path: Path, caplog) -> None:
    exported = tmp_path / "pass-0123456789abcdef.onnx"
    write_tiny_pass(exported)
    target = quantized_path(exported)
    assert target.parent == exported.parent and target.name.startswith("pass-0123456789abcdef-int8-")
    with caplog.at_level(logging.WARNING):
        quantize(exported, target)
    assert "pre-processing" not in caplog.text  # the quantizer's advice, which does not apply, is not passed on
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([exported.name, target.name])  # no partial file left
    assert "MatMulInteger" in {node.op_type for node in onnx.load(str(target)).graph.node}
    texts = ["where is my parcel", "ok", "this is the third time I ask and nobody answers"]
    for fp32, int8 in zip(run(exported, texts), run(target, texts), strict=True):
        assert not np.array_equal(fp32, int8)
        np.testing.assert_allclose(int8, fp32, atol=0.1 * float(np.abs(fp32).max()))


def test_each_export_gets_its_own_int8_name_and_features_name() -> None:
    first, second = Path("cache/pass-aaaa.onnx"), Path("cache/pass-bbbb.onnx")
    assert quantized_path(first) == quantized_path(Path("cache/pass-aaaa.onnx"))
    assert quantized_path(first) != quantized_path(second)
    assert features_name(first) != features_name(second)
    assert features_name(first).startswith("int8-") and features_name(first) != FP32_FEATURES
