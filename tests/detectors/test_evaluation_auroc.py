import numpy as np
import pytest

from detectors.evaluation.intent import auroc as out_of_scope_auroc
from detectors.evaluation.sentiment import auroc as negative_auroc


def test_auroc_counts_ties_as_half_by_hand():
    # 6 out/in pairs: 0.9 beats both, each 0.5 ties one and beats one -> (2 + 1.5 + 1.5) / 6.
    assert out_of_scope_auroc(np.array([0.9, 0.5, 0.5]), np.array([0.5, 0.1])) == pytest.approx(5 / 6)
    # 4 positive/negative pairs: 1 + 1 + 0.5 + 1 -> 3.5 / 4.
    assert negative_auroc(np.array([0.9, 0.5, 0.5, 0.1]), np.array([1, 1, 0, 0])) == pytest.approx(0.875)
