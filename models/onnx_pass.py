"""The service's pass (the encoder with the sentiment branch inside it) exported to ONNX and run by ONNX Runtime.

Why: at the small batches a live service mostly sees, torch spends more time in Python around each layer than
in arithmetic. On this 2-core box, one thread, `python -m bench.encoder_throughput` measured ONNX Runtime at
more than twice torch's messages per second at batch 1 (13-14 ms a message against 29-34), ahead at batch 4,
level at 8, and at 16 and 32 anywhere from 6% ahead to 23% behind, run to run. So batches up to
`ONNX_MAX_BATCH` run on ONNX Runtime and larger ones (a busy service's full worker batches) on torch.

The graph is exported from `ForkedPass`, the module the torch pass runs, once per combination of encoder
weights, branch weights, traced code and library versions, and cached on disk under that hash; later starts
only load it.
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

from models.encoder import SentenceEncoder, digest_of
from models.sentences import Span, pool_spans
from models.sentiment_branch import ForkedPass, SentimentBranch

ONNX_MAX_BATCH = 8  # larger batches run on torch (see above)
OPSET = 18
EXPORT_FORMAT = 2  # bump when what is exported changes outside models/sentiment_branch.py (inputs, outputs)
_INPUTS = ("input_ids", "attention_mask")


class OnnxPass:
    """`SentenceEncoder.encode_with_branch` for one fixed branch: small batches on ONNX Runtime, large on torch."""

    def __init__(self, encoder: SentenceEncoder, branch: SentimentBranch, cache_dir: Path, threads: int = 1) -> None:
        self.dim = encoder.dim
        self.branch = branch
        self._encoder = encoder
        self.path = export_path(encoder, branch, cache_dir)
        if not self.path.exists():
            export(encoder, branch, self.path)
        try:
            self._session = load_session(str(self.path), threads)
        except (
            InvalidProtobuf,
            InvalidGraph,
            Fail,
        ):  # a damaged cached file (bad disk, a hand edit): export afresh, once
            self.path.unlink(missing_ok=True)
            export(encoder, branch, self.path)
            self._session = load_session(str(self.path), threads)
        self.batches = {"onnx": 0, "torch": 0}  # how many batches ran on each; read by benchmarks

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
        """`encode_with_branch` plus each text's sentence spans pooled from the same pass, as the torch pass gives them."""
        if branch is not self.branch:
            raise ValueError("this ONNX pass was exported with another branch; build one for this branch")
        if not texts:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, len(branch.classes)), np.float32), []
        if len(texts) > onnx_max_batch:
            self.batches["torch"] += 1
            return self._encoder.encode_with_sentences(texts, branch, spans)
        self.batches["onnx"] += 1
        ids, mask, offsets = self._encoder.tokenize_with_offsets(list(texts))
        embeddings, probabilities, states = self._session.run(
            None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        )
        empty = np.zeros((0, self.dim), np.float32)
        sentences = [
            pool_spans(states[i], offsets[i], spans[i]) if spans is not None and spans[i] else empty
            for i in range(len(texts))
        ]
        return embeddings, probabilities, sentences


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
