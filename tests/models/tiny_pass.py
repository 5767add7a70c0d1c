"""A tiny stand-in for the exported pass: an ONNX graph with the export's inputs and outputs (an embedding table and
two small matrices, no transformer), and an encoder that tokenises by words, for testing what is built around the
graph without the real model."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

DIM = 8
VOCAB = 64
CLASSES = ("negative", "neutral", "positive")


def write_tiny_pass(path: Path, seed: int = 0) -> None:
    """token ids -> embedding table -> one matrix (the token states) -> masked mean (the sentence embedding) -> a
    softmax over three classes (the branch probabilities)."""
    rng = np.random.default_rng(seed)
    weights = {
        "table": rng.standard_normal((VOCAB, DIM)).astype(np.float32),
        "layer": rng.standard_normal((DIM, DIM)).astype(np.float32),
        "classifier": rng.standard_normal((DIM, len(CLASSES))).astype(np.float32),
        "last_axis": np.array([-1], np.int64),
        "token_axis": np.array([1], np.int64),
    }
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["embedded"]),
        helper.make_node("MatMul", ["embedded", "layer"], ["token_states"]),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "last_axis"], ["mask3"]),
        helper.make_node("Mul", ["token_states", "mask3"], ["kept"]),
        helper.make_node("ReduceSum", ["kept", "token_axis"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "token_axis"], ["counts"], keepdims=0),
        helper.make_node("Div", ["summed", "counts"], ["sentence_embedding"]),
        helper.make_node("MatMul", ["sentence_embedding", "classifier"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["branch_probabilities"], axis=-1),
    ]
    tokens = ["batch", "tokens"]
    graph = helper.make_graph(
        nodes,
        "tiny_pass",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, tokens),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, tokens),
        ],
        [
            helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", DIM]),
            helper.make_tensor_value_info("branch_probabilities", TensorProto.FLOAT, ["batch", len(CLASSES)]),
            helper.make_tensor_value_info("token_states", TensorProto.FLOAT, [*tokens, DIM]),
        ],
        [numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


class TinyEncoder:
    """Tokenises by words (ids by hash), right-padded as the real tokenizer pads; never runs a pass of its own."""

    dim = DIM
    features = "fp32"
    weights_digest = "tiny-encoder"

    def tokenize_with_offsets(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        words = [text.split() or [""] for text in texts]
        longest = max(len(w) for w in words)
        ids = torch.zeros((len(texts), longest), dtype=torch.long)
        mask = torch.zeros((len(texts), longest), dtype=torch.long)
        offsets = np.zeros((len(texts), longest, 2), dtype=np.int64)
        for row, (text, row_words) in enumerate(zip(texts, words, strict=True)):
            start = 0
            for column, word in enumerate(row_words):
                ids[row, column] = zlib.crc32(word.encode()) % VOCAB
                mask[row, column] = 1
                start = text.find(word, start)
                offsets[row, column] = (start, start + len(word))
                start += len(word)
        return ids, mask, offsets

    def encode_with_sentences(self, texts: Sequence[str], branch: object, spans: object) -> tuple[np.ndarray, ...]:
        raise AssertionError("the torch pass ran")


class TinyBranch(torch.nn.Module):
    """Stands for the sentiment branch the graph was exported with: its weights name the export."""

    classes = CLASSES

    def __init__(self) -> None:
        super().__init__()
        self.classifier = torch.nn.Linear(DIM, len(CLASSES))
