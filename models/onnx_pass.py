"""The service's pass (the encoder with the sentiment branch inside it) exported to ONNX and run by ONNX Runtime.

Why: at the small batches a live service mostly sees, torch spends more time in Python around each layer than
in arithmetic. On this 2-core box, one thread, `python -m bench.encoder_throughput` measured ONNX Runtime at
more than twice torch's messages per second at batch 1 (13-14 ms a message against 29-34), ahead at batch 4,
level at 8, and at 16 and 32 anywhere from 6% ahead to 23% behind, run to run. In the service the balance tips
further: ONNX Runtime releases the GIL for the whole run, while torch takes it back between every small operation,
so on torch the writer and the event loop queue for it behind the pass. With every worker batch on ONNX Runtime a
saturated server answered 74 messages/s instead of 61 (`bench.websocket_load`, same busy host). So batches up to
`ONNX_MAX_BATCH`, the worker's largest, run on ONNX Runtime; only the offline tools' larger batches run on torch.

The graph is exported from `ForkedPass`, the module the torch pass runs, once per combination of encoder
weights, branch weights, traced code and library versions, and cached on disk under that hash; later starts
only load it.

With `precision="int8"` the pass runs the export's int8 version (models.quantized_pass) for every batch: torch
would give other features than the ones the int8 heads were trained on. Each message runs on its own there,
because dynamic quantization picks its activation scale over the whole input of a run, padding included: in a
batch of 32 TweetEval tweets a message's embedding was 0.991 cosine from its own alone and its branch
probabilities up to 0.17 apart, so features would depend on which messages happened to share a batch (and a
replay would not match the live service). One at a time also wastes nothing on padding, which is why it costs
little: see `bench.encoder_throughput`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from onnxruntime.capi.onnxruntime_pybind11_state import (
    Fail,
    InvalidGraph,
    InvalidProtobuf,
)

from models.backends import Precision
from models.encoder import FP32_FEATURES, SentenceEncoder, digest_of
from models.quantized_pass import features_name, quantize, quantized_path
from models.sentences import Span, pool_spans
from models.sentiment_branch import ForkedPass, SentimentBranch

ONNX_MAX_BATCH = 32  # the worker's largest batch; larger ones (offline tools) run on torch (see above)
OPSET = 18
EXPORT_FORMAT = 2  # bump when what is exported changes outside models/sentiment_branch.py (inputs, outputs)
_INPUTS = ("input_ids", "attention_mask")


class OnnxPass:
    """`SentenceEncoder.encode_with_branch` for one fixed branch on ONNX Runtime: in fp32, small batches there and
    large ones on torch; in int8, everything there, one message at a time."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        branch: SentimentBranch,
        cache_dir: Path,
        threads: int = 1,
        precision: Precision = "fp32",
    ) -> None:
        self.dim = encoder.dim
        self.branch = branch
        self.precision = precision
        self._encoder = encoder
        self._fp32_path = export_path(encoder, branch, cache_dir)
        self.path = self._fp32_path if precision == "fp32" else quantized_path(self._fp32_path)
        # Names the features this pass makes in every cache of them: fp32 equals torch to 1e-5, int8 does not.
        self.features = FP32_FEATURES if precision == "fp32" else features_name(self._fp32_path)
        if not self.path.exists():
            self._build()
        try:
            self._session = load_session(str(self.path), threads)
        except (
            InvalidProtobuf,
            InvalidGraph,
            Fail,
        ):  # a damaged cached file (bad disk, a hand edit): build it afresh, once
            self.path.unlink(missing_ok=True)
            self._build()
            self._session = load_session(str(self.path), threads)
        self.batches = {"onnx": 0, "torch": 0}  # how many batches ran on each; read by benchmarks

    def _build(self) -> None:
        if not self._fp32_path.exists():
            export(self._encoder, self.branch, self._fp32_path)
        if self.path != self._fp32_path:
            quantize(self._fp32_path, self.path)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_with_branch(texts, self.branch)[0]

    def encode_with_branch(
        self, texts: Sequence[str], branch: SentimentBranch, onnx_max_batch: int = ONNX_MAX_BATCH
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n, dim) embeddings and (n, classes) branch probabilities, as the torch pass gives them."""
        embeddings, probabilities, _ = self.encode_with_sentences(texts, branch, None, onnx_max_batch)
        return embeddings, probabilities

    def encode_with_sentences(
        self,
        texts: Sequence[str],
        branch: SentimentBranch,
        spans: Sequence[Sequence[Span]] | None,
        onnx_max_batch: int = ONNX_MAX_BATCH,
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """`encode_with_branch` plus each text's sentence spans pooled from the same pass, as the torch pass gives them.

        In fp32, batches larger than `onnx_max_batch` run on torch; in int8 none does."""
        if branch is not self.branch:
            raise ValueError("this ONNX pass was exported with another branch; build one for this branch")
        if not texts:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, len(branch.classes)), np.float32), []
        if self.precision == "fp32" and len(texts) > onnx_max_batch:
            self.batches["torch"] += 1
            return self._encoder.encode_with_sentences(texts, branch, spans)
        self.batches["onnx"] += 1
        ids, mask, offsets = self._encoder.tokenize_with_offsets(list(texts))
        if self.precision == "fp32":
            embeddings, probabilities, states = self._session.run(
                None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
            )
        else:
            embeddings, probabilities, states = self._one_at_a_time(ids.numpy(), mask.numpy())
        empty = np.zeros((0, self.dim), np.float32)
        sentences = [
            pool_spans(states[i], offsets[i][: len(states[i])], spans[i]) if spans is not None and spans[i] else empty
            for i in range(len(texts))
        ]
        return embeddings, probabilities, sentences

    def _one_at_a_time(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Each row of a right-padded batch run alone, without its padding; token states come back per row."""
        embeddings, probabilities, states = [], [], []
        for row_ids, row_mask in zip(ids, mask, strict=True):
            length = int(row_mask.sum())
            embedding, probability, state = self._session.run(
                None, {"input_ids": row_ids[None, :length], "attention_mask": row_mask[None, :length]}
            )
            embeddings.append(embedding[0])
            probabilities.append(probability[0])
            states.append(state[0])
        return np.stack(embeddings), np.stack(probabilities), states


def export_path(encoder: SentenceEncoder, branch: SentimentBranch, cache_dir: Path) -> Path:
    """Where the export of this encoder and branch is cached; it exists once the export has run."""
    return Path(cache_dir) / f"pass-{export_key(encoder, branch)}.onnx"


def export_key(encoder: SentenceEncoder, branch: SentimentBranch) -> str:
    """Names one export: the weights, the code of the module that was traced, and the libraries that traced it.

    Any of them changing would make the cached graph compute something other than the torch pass.
    """
    import onnxscript
    import torch
    import transformers

    from models import sentiment_branch

    traced_code = hashlib.sha256(Path(sentiment_branch.__file__).read_bytes()).hexdigest()
    versions = (torch.__version__, transformers.__version__, onnxscript.__version__, str(OPSET), str(EXPORT_FORMAT))
    parts = (encoder.weights_digest, digest_of(branch), traced_code, *versions)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def export(encoder: SentenceEncoder, branch: SentimentBranch, path: Path) -> None:
    """Write the encoder with `branch` inside it (`ForkedPass`) as an ONNX graph with dynamic batch and token
    axes; readers never see a partial file."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    # Two rows of different lengths, so neither axis is specialised to the example's sizes.
    example = encoder.tokenize(["an example message for the export", "hi"])
    dynamic = {0: torch.export.Dim.DYNAMIC, 1: torch.export.Dim.DYNAMIC}
    # A uniquely named file beside the target, renamed over it once complete: concurrent first starts never clash.
    handle, partial_name = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(partial_name)
    # The exporter logs about optional operator sets (torchvision) it does not need, and warns about
    # deprecated calls inside torch itself: neither is anything a user can act on.
    exporter_log = logging.getLogger("torch.onnx")
    previous_level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", FutureWarning)
            torch.onnx.export(
                ForkedPass(encoder.transformer, branch).eval(),
                example,
                str(partial),
                input_names=list(_INPUTS),
                output_names=["sentence_embedding", "branch_probabilities", "token_states"],
                dynamic_shapes=(dynamic, dynamic),
                opset_version=OPSET,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
        os.replace(partial, path)
    finally:
        exporter_log.setLevel(previous_level)
        partial.unlink(missing_ok=True)


@functools.lru_cache(maxsize=4)
def load_session(path: str, threads: int) -> Any:
    """One ONNX Runtime session per exported file in this process; sessions are safe to share across threads."""
    options = onnxruntime.SessionOptions()
    # As with torch: a deliberate thread count, so the pass never fights the event loop for the other core.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
