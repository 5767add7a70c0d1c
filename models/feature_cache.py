"""Disk cache of per-layer features for training and evaluation runs, beside the embedding cache."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np

from models.encoder import FeatureEncoder

DEFAULT_FEATURE_CACHE_DIR = Path("var/cache/features")
LAYER_MEANS = "layer_means"


def layer_means_cached(
    encoder: FeatureEncoder, texts: Sequence[str], cache_dir: Path | None = DEFAULT_FEATURE_CACHE_DIR
) -> np.ndarray:
    """`encoder.encode_with_features(texts)[1]`, reusing an earlier run's result for the very same texts."""
    if cache_dir is None:
        return encoder.encode_with_features(texts)[1]
    digest = hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:24]
    path = Path(cache_dir) / f"{digest}-{LAYER_MEANS}-{len(texts)}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    _, features = encoder.encode_with_features(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, features, allow_pickle=False)
    tmp.replace(path)
    return features
