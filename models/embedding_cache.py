"""Disk cache of embeddings (and other per-text model outputs) for training and evaluation runs over public data sets.

Every key names the pass that made the values (`models.encoder.features_of`: "fp32" for torch and the fp32 ONNX
pass, which agree to 1e-5, and its own name for the int8 pass), so features of different passes never mix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from models.encoder import Encoder, features_of

DEFAULT_CACHE_DIR = Path("var/cache/embeddings")


def embed_cached(encoder: Encoder, texts: Sequence[str], cache_dir: Path | None = DEFAULT_CACHE_DIR) -> np.ndarray:
    """Encode `texts`, reusing an earlier run's vectors for the very same list of texts from the same pass."""
    return cached(texts, encoder.encode, cache_dir, features=features_of(encoder))


def cached(
    texts: Sequence[str],
    compute: Callable[[Sequence[str]], np.ndarray],
    cache_dir: Path | None,
    tag: str = "",
    *,
    features: str,
) -> np.ndarray:
    """`compute(texts)`, kept on disk under the digest of the exact list of texts, the `features` of the pass that
    computes it, and `tag`, naming what is computed from them."""
    if cache_dir is None:
        return compute(texts)
    digest = hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:24]
    path = Path(cache_dir) / f"{digest}-{features}{'-' + tag if tag else ''}-{len(texts)}.npy"
    if path.exists():
        stored: np.ndarray = np.load(path, allow_pickle=False)  # a .npy file holds one array
        return stored
    values = compute(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, values, allow_pickle=False)
    tmp.replace(path)
    return values


class CachingEncoder:
    """An encoder whose results for a whole list of texts are kept on disk: for fixed inputs such as seed files."""

    def __init__(self, encoder: Encoder, cache_dir: Path) -> None:
        self.encoder = encoder
        self.cache_dir = Path(cache_dir)
        self.dim = encoder.dim
        self.features = features_of(encoder)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return embed_cached(self.encoder, list(texts), self.cache_dir)
