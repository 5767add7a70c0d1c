"""detectors/tuning/validation.py: the held-out share."""

from __future__ import annotations

import pytest

from detectors.tuning.validation import split_holdout
from tests.detectors.tuning.fake_replayer import conversation


def test_the_held_out_share_is_drawn_within_each_category_and_the_same_every_time() -> None:
    items = [conversation(f"{kind}-{i}", kind == "up", category=kind) for kind in ("up", "calm") for i in range(10)]
    tuning, held = split_holdout(items, 0.3)
    assert len(held) == 6 and sum(c.category == "up" for c in held) == 3
    assert {c.id for c in tuning} | {c.id for c in held} == {c.id for c in items}
    assert split_holdout(items, 0.3) == (tuning, held)
    assert split_holdout(items, 0.0) == (items, [])
    with pytest.raises(ValueError, match="below 1"):
        split_holdout(items, 1.0)
