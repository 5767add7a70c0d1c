"""The models' configuration section ([models])."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    torch_threads: int = Field(1, ge=1)
    # What runs the live pass: "onnx" (ONNX Runtime for batches of up to 8, exported once and cached) or
    # "torch". Both compute the same graph, to within 1e-5. Offline tools (replay, detect) always use torch.
    backend: Literal["onnx", "torch"] = "onnx"
    max_batch: int = Field(32, ge=1)
    max_wait_ms: float = Field(3.0, ge=0)
    cache_dir: Path = Path("var/cache")
