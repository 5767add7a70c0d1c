"""Which pass makes a backend's features, and which shipped heads were trained on them.

The fp32 backends ("onnx" and "torch") compute the same features to within 1e-5 and share the heads in
`models/weights/`. The int8 backend's features differ (cosine about 0.99 to fp32's), and a head trained on one set
misreads the other, so every head trained offline on the pass has an int8 twin of the same file name in
`models/weights/int8/`, trained by the same script with `--backend onnx-int8`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from models.config import ModelSettings
from models.frustration import FRUSTRATION_WEIGHTS
from models.heads import HUMAN_REQUEST_WEIGHTS, SENTIMENT_BRANCH_WEIGHTS, SENTIMENT_WEIGHTS, WEIGHTS_DIR
from models.stuck_signs import STUCK_SIGNS_WEIGHTS

if TYPE_CHECKING:
    from models.encoder import BranchEncoder, SentenceEncoder
    from models.sentiment_branch import SentimentBranch

INT8 = "onnx-int8"
Precision = Literal["fp32", "int8"]  # of the ONNX pass (models.onnx_pass)
BACKENDS = ("onnx", INT8, "torch")  # as `[models] backend` spells them
INT8_WEIGHTS_DIR = WEIGHTS_DIR / "int8"
DEFAULT_ONNX_CACHE = ModelSettings().cache_dir / "onnx"  # where the service keeps its exports


def weights_for(path: Path, backend: str) -> Path:
    """The shipped file `path` (an fp32 head) or, for the int8 backend, its int8 twin."""
    return INT8_WEIGHTS_DIR / Path(path).name if backend == INT8 else Path(path)


@dataclass(frozen=True, slots=True)
class HeadWeights:
    """The shipped heads that read one backend's features."""

    human_request: Path
    frustration: Path
    stuck_signs: Path
    sentiment: Path  # the embedding-only sentiment head: a baseline the evaluation reports, not served

    @classmethod
    def of(cls, backend: str) -> HeadWeights:
        return cls(
            human_request=weights_for(HUMAN_REQUEST_WEIGHTS, backend),
            frustration=weights_for(FRUSTRATION_WEIGHTS, backend),
            stuck_signs=weights_for(STUCK_SIGNS_WEIGHTS, backend),
            sentiment=weights_for(SENTIMENT_WEIGHTS, backend),
        )


def offline_pass(
    backend: str,
    encoder: SentenceEncoder | None = None,
    onnx_cache: Path = DEFAULT_ONNX_CACHE,
    threads: int = 1,
    branch_weights: Path = SENTIMENT_BRANCH_WEIGHTS,
) -> tuple[BranchEncoder, SentimentBranch]:
    """The pass that makes `backend`'s features for training and evaluation, and the sentiment branch inside it
    (`branch_weights`): torch for the fp32 backends, the int8 ONNX pass (exported and quantized into `onnx_cache` if
    need be) for int8."""
    if encoder is None:
        from models.encoder import SentenceEncoder

        encoder = SentenceEncoder(threads=threads)
    branch = encoder.load_branch(branch_weights)
    if backend != INT8:
        return encoder, branch
    from models.onnx_pass import OnnxPass

    return OnnxPass(encoder, branch, onnx_cache, threads, precision="int8"), branch
