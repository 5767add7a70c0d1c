"""The models' configuration section ([models])."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    torch_threads: int = Field(default=1, ge=1)
    # What runs the live pass: "onnx" (ONNX Runtime for batches of up to 8, exported once and cached) or "torch",
    # which compute the same graph to within 1e-5 (so offline tools, replay and detect, run torch for both); or
    # "onnx-int8", the export quantized to int8 for every batch, whose features differ: it has heads of its own
    # (models.backends, models/weights/int8/), threshold defaults of its own wherever they differ
    # (detectors.thresholds.INT8_DEFAULTS), and the offline tools run it too.
    backend: Literal["onnx", "onnx-int8", "torch"] = "onnx"
    max_batch: int = Field(default=32, ge=1)
    max_wait_ms: float = Field(default=3.0, ge=0)
    cache_dir: Path = Path("var/cache")
