"""TurnAnalysis: everything the models say about one customer message, from one encoder pass."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class TurnAnalysis:
    """The encoder's embedding of one message and what every cheap head read off it."""

    text: str
    embedding: np.ndarray = field(repr=False)  # (dim,), float32, L2-normalised
    negative: float  # P(negative sentiment / frustration), 0..1
    human_request: float  # P(the message asks for a human), 0..1
    intents: tuple[tuple[str, float], ...]  # knowledge-base intents, most probable first
    out_of_scope: float  # 0..1, higher means further from anything the knowledge base covers

    @property
    def top_intent(self) -> str | None:
        return self.intents[0][0] if self.intents else None

    @property
    def top_confidence(self) -> float:
        return self.intents[0][1] if self.intents else 0.0

    @property
    def margin(self) -> float:
        """Gap between the two most probable intents (1.0 when there is only one)."""
        if len(self.intents) < 2:
            return self.top_confidence
        return self.intents[0][1] - self.intents[1][1]
