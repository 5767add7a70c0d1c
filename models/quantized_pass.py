"""The exported pass (models.onnx_pass) quantized to int8 by ONNX Runtime's dynamic quantization, cached beside it.

`quantize_dynamic` stores the weights of every MatMul (and the token-embedding table) as int8 and quantizes the
activations at run time. Scales are per output channel: with one scale per weight tensor (its default) the
embeddings moved too far from fp32 (cosine 0.961 on average, 0.907 at worst, on 800 TweetEval and CLINC150
validation texts); per channel they stay at 0.992 and 0.976.

The quantized file is named by the fp32 export it came from (whose name already covers the weights, the traced
code and the tracing libraries), ONNX Runtime's version and the settings below, so a change to any of them
quantizes afresh, and the name doubles as the name of the features the int8 pass makes (`features_name`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import onnxruntime

# What quantize_dynamic is asked for; part of the file's name, so a change here quantizes again.
PER_CHANNEL = True
WEIGHT_TYPE = "QInt8"
QUANTIZE_FORMAT = 1  # bump when the quantization changes in a way the settings above do not show


def quantized_path(fp32_path: Path) -> Path:
    """Where the int8 version of the fp32 export at `fp32_path` is cached: beside it."""
    return fp32_path.with_name(f"{fp32_path.stem}-int8-{quantize_key(fp32_path)}.onnx")


def quantize_key(fp32_path: Path) -> str:
    """Names one quantized graph: the export it came from, the quantizer's version and its settings."""
    parts = (fp32_path.name, onnxruntime.__version__, str(PER_CHANNEL), WEIGHT_TYPE, str(QUANTIZE_FORMAT))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def features_name(fp32_path: Path) -> str:
    """The name of the features the int8 graph makes, for cache keys: they differ from the fp32 pass's."""
    return f"int8-{quantize_key(fp32_path)}"


def quantize(fp32_path: Path, out: Path) -> None:
    """Write the int8 version of the ONNX graph at `fp32_path` to `out`; readers never see a partial file."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(dir=out.parent, prefix=f"{out.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(partial_name)
    # The quantizer advises its shape-inference pre-processing on the root logger; on this graph that step fails on
    # the dynamic token axis, and it changed nothing where it ran (the embeddings came out identical).
    advice = _DropAdvice()
    root = logging.getLogger()
    root.addFilter(advice)
    try:
        quantize_dynamic(
            str(fp32_path), str(partial), per_channel=PER_CHANNEL, weight_type=getattr(QuantType, WEIGHT_TYPE)
        )
        os.replace(partial, out)
    finally:
        root.removeFilter(advice)
        partial.unlink(missing_ok=True)


class _DropAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()
