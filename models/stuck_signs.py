"""Signs that the bot is not helping, read off one message: the customer says a suggested fix failed, that this is
a repeated contact, or that the bot is not answering the question.

These are conversational acts, not topics: "did the reset already, still says wrong password" is about passwords
and about a failed fix. Judged by nearness to examples, such messages sit closer to routine questions on their
topic than to any example of the act, so the shipped head is a multinomial logistic regression (trained by
models.train_stuck_signs on hand-written examples against ordinary support requests of every topic), which learns
the act's own direction ("already", "still", "again", "second time") apart from the topic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.heads import LinearHead, load_head

STUCK_SIGNS_WEIGHTS = Path(__file__).parent / "weights" / "stuck_signs.npz"
NONE = "none"


class StuckSigns:
    """P(each sign) for a batch of embeddings; the "none" class is dropped from the output."""

    def __init__(self, head: LinearHead) -> None:
        if head.classes[0] != NONE:
            raise ValueError(f"the signs head's first class must be {NONE!r}, got {head.classes[0]!r}")
        self.head = head
        self.classes = head.classes[1:]

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        return self.head.predict_proba(embeddings)[:, 1:]

    @classmethod
    def load(cls, path: Path = STUCK_SIGNS_WEIGHTS) -> StuckSigns:
        return cls(load_head(path))
