"""Every shipped head has an int8 twin of the same name and shape, plain arrays loadable without pickle; the fp32
backends share the fp32 heads."""

from __future__ import annotations

from dataclasses import astuple

import numpy as np

from models.backends import INT8, INT8_WEIGHTS_DIR, HeadWeights, weights_for
from models.heads import HUMAN_REQUEST_WEIGHTS


def test_the_fp32_backends_read_the_shipped_heads_and_int8_its_twins() -> None:
    assert HeadWeights.of("onnx") == HeadWeights.of("torch")
    assert weights_for(HUMAN_REQUEST_WEIGHTS, "onnx") == HUMAN_REQUEST_WEIGHTS
    assert weights_for(HUMAN_REQUEST_WEIGHTS, INT8) == INT8_WEIGHTS_DIR / HUMAN_REQUEST_WEIGHTS.name


def test_every_shipped_head_has_an_int8_twin_of_the_same_arrays() -> None:
    for fp32, int8 in zip(astuple(HeadWeights.of("torch")), astuple(HeadWeights.of(INT8)), strict=True):
        assert int8.parent == INT8_WEIGHTS_DIR and int8.name == fp32.name
        with np.load(fp32, allow_pickle=False) as shipped, np.load(int8, allow_pickle=False) as twin:
            assert sorted(twin.files) == sorted(shipped.files)
            for name in shipped.files:
                assert twin[name].shape == shipped[name].shape, (int8.name, name)
                assert twin[name].dtype.kind == shipped[name].dtype.kind, (int8.name, name)
            assert not all(np.array_equal(twin[n], shipped[n]) for n in shipped.files)  # refit, not copied
