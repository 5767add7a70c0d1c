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


# A head maps a batch of embeddings (n, dim) to one probability per row (n,). The negativity head may
# instead read the layer means of the same pass (n, layers + 1, dim): it then says `reads = "layer_means"`.
ProbabilityHead = Callable[[np.ndarray], np.ndarray]
LAYER_MEANS = "layer_means"  # the value of `reads` on a head that takes layer means (see models.heads)


class MissingFeatures(ValueError):
    """A head needs layer means that the encoder or the caller did not provide."""


class Analyzer:
    """One encoder pass for a batch of messages, then every cheap head on the same embeddings."""

    def __init__(
        self,
        encoder: Encoder,
        negative: ProbabilityHead,
        human_request: ProbabilityHead,
        intents: IntentRanker,
        top_k: int = 3,
    ) -> None:
        self._negative_reads_layers = getattr(negative, "reads", None) == LAYER_MEANS
        if self._negative_reads_layers and not hasattr(encoder, "encode_with_features"):
            raise MissingFeatures(f"the negativity head reads layer means, which {type(encoder).__name__} cannot give")
        self.encoder = encoder
        self._negative = negative
        self._human_request = human_request
        self._intents = intents
        self._top_k = top_k

    def analyze(self, texts: Sequence[str]) -> list[TurnAnalysis]:
        if self._negative_reads_layers:
            embeddings, layer_means = self.encoder.encode_with_features(texts)  # type: ignore[attr-defined]
            return self.analyze_embeddings(texts, embeddings, layer_means)
        return self.analyze_embeddings(texts, self.encoder.encode(texts))

    def analyze_embeddings(
        self, texts: Sequence[str], embeddings: np.ndarray, layer_means: np.ndarray | None = None
    ) -> list[TurnAnalysis]:
        """Every head on an encoder pass already made; `layer_means` is needed when the negativity head reads them."""
        if self._negative_reads_layers:
            if layer_means is None:
                raise MissingFeatures("the negativity head reads layer means: pass the encode_with_features output")
            negative = self._negative(layer_means)
        else:
            negative = self._negative(embeddings)
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
