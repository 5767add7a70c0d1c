"""TurnAnalysis: everything the models say about one customer message, from one encoder pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from models.encoder import Encoder


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


class IntentRanker(Protocol):
    def rank(self, embeddings: np.ndarray, k: int = 3) -> list[tuple[tuple[str, float], ...]]: ...

    def out_of_scope(self, embeddings: np.ndarray) -> np.ndarray: ...


# A head maps a batch of embeddings (n, dim) to one probability per row (n,).
ProbabilityHead = Callable[[np.ndarray], np.ndarray]


class Branch(Protocol):
    """Layers of its own that fork off the encoder's pass at an inner layer (models.sentiment_branch)."""

    from_layer: int
    classes: tuple[str, ...]

    def index(self, name: str) -> int: ...


class MissingFeatures(ValueError):
    """The sentiment branch's output is needed but the encoder or the caller did not provide it."""


class Analyzer:
    """One encoder pass for a batch of messages, then every cheap head on the same pass.

    Negativity comes either from a head on the embedding or, by default, from the sentiment branch that
    the encoder runs inside the same pass (`encode_with_branch`).
    """

    def __init__(
        self,
        encoder: Encoder,
        negative: ProbabilityHead | Branch,
        human_request: ProbabilityHead,
        intents: IntentRanker,
        top_k: int = 3,
    ) -> None:
        # The sentiment branch this analyzer's pass runs, if negativity comes from one.
        self.branch: Branch | None = negative if hasattr(negative, "from_layer") else None  # type: ignore[assignment]
        if self.branch is not None and not hasattr(encoder, "encode_with_branch"):
            raise MissingFeatures(f"the sentiment branch forks off the pass, which {type(encoder).__name__} cannot run")
        self.encoder = encoder
        self._negative = negative
        self._human_request = human_request
        self._intents = intents
        self._top_k = top_k

    def analyze(self, texts: Sequence[str]) -> list[TurnAnalysis]:
        if self.branch is not None:
            embeddings, probabilities = self.encoder.encode_with_branch(texts, self.branch)  # type: ignore[attr-defined]
            return self.analyze_embeddings(texts, embeddings, probabilities[:, self.branch.index("negative")])
        return self.analyze_embeddings(texts, self.encoder.encode(texts))

    def analyze_embeddings(
        self, texts: Sequence[str], embeddings: np.ndarray, negative: np.ndarray | None = None
    ) -> list[TurnAnalysis]:
        """Every head on an encoder pass already made; `negative` is the branch's output when there is a branch."""
        if self.branch is not None:
            if negative is None:
                raise MissingFeatures("negativity comes from the sentiment branch: pass its output as `negative`")
        else:
            negative = self._negative(embeddings)  # type: ignore[operator]
        human = self._human_request(embeddings)
        ranked = self._intents.rank(embeddings, k=self._top_k)
        oos = self._intents.out_of_scope(embeddings)
        return [
            TurnAnalysis(
                text=text,
                embedding=embeddings[i],
                negative=float(negative[i]),
                human_request=float(human[i]),
                intents=ranked[i],
                out_of_scope=float(oos[i]),
            )
            for i, text in enumerate(texts)
        ]
