"""Measured quality of the detectors on the public data sets (run by hand or from the CLI, never in tests)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detectors.types import Conversation, Turn
from models.analysis import TurnAnalysis


def single_turn_conversations(
    texts: Sequence[str],
    embeddings: np.ndarray,
    negative: np.ndarray | None = None,
    human_request: np.ndarray | None = None,
) -> list[Conversation]:
    """One conversation per text, holding one customer turn; intent fields are left neutral (empty)."""
    count = len(texts)
    negative = np.zeros(count) if negative is None else negative
    human_request = np.zeros(count) if human_request is None else human_request
    return [
        Conversation(
            id=f"eval-{i}",
            turns=(
                Turn(
                    role="customer",
                    text=text,
                    analysis=TurnAnalysis(
                        text=text,
                        embedding=embeddings[i],
                        negative=float(negative[i]),
                        human_request=float(human_request[i]),
                        intents=(),
                        out_of_scope=0.0,
                    ),
                ),
            ),
        )
        for i, text in enumerate(texts)
    ]
