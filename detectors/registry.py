"""The detector registry and the pipeline step: run every detector on a conversation, then the policy."""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Protocol

from detectors.explicit_request import ExplicitRequestDetector
from detectors.intent_confidence import IntentConfidenceDetector
from detectors.pattern_similarity import EscalationBank, PatternSimilarityDetector
from detectors.policy import decide
from detectors.sentiment import SentimentDetector
from detectors.thresholds import Thresholds
from detectors.types import Conversation, Decision, Signal

logger = logging.getLogger(__name__)


class Detector(Protocol):
    """What every detector module provides (see each module's class)."""

    name: str

    def detect(self, conversation: Conversation, thresholds: Any, /) -> Signal: ...


# Config key -> factory. Every factory takes the bank so they share one signature; only one needs it.
DETECTORS: dict[str, Callable[[EscalationBank], Detector]] = {
    "sentiment": lambda bank: SentimentDetector(),
    "intent_confidence": lambda bank: IntentConfidenceDetector(),
    "explicit_request": lambda bank: ExplicitRequestDetector(),
    "pattern_similarity": PatternSimilarityDetector,
}


def make_detector(key: str, bank: EscalationBank) -> Detector:
    """Build the detector registered under `key`; an unknown key names the known ones."""
    try:
        factory = DETECTORS[key]
    except KeyError:
        raise LookupError(f"unknown detector {key!r}; known detectors: {', '.join(DETECTORS)}") from None
    return factory(bank)


class DetectorSuite:
    """Every detector, built once; `run` judges a conversation's latest customer turn."""

    def __init__(self, detectors: Iterable[Detector]) -> None:
        self.detectors = tuple(detectors)

    @classmethod
    def build(cls, bank: EscalationBank, keys: Iterable[str] | None = None) -> DetectorSuite:
        """Every registered detector (or those named by `keys`, in that order), sharing one bank."""
        return cls(make_detector(key, bank) for key in (DETECTORS if keys is None else keys))

    def run(self, conversation: Conversation, thresholds: Thresholds) -> Decision:
        return decide([self._detect(d, conversation, thresholds) for d in self.detectors], thresholds)

    def _detect(self, detector: Detector, conversation: Conversation, thresholds: Thresholds) -> Signal:
        # One broken detector must never silence the others: report it as a failed, unfired signal.
        try:
            return detector.detect(conversation, getattr(thresholds, detector.name))
        except Exception as error:
            logger.exception("detector %s failed on conversation %s", detector.name, conversation.id)
            return Signal(
                detector=detector.name,
                score=0.0,
                threshold=1.0,  # unreachable by the reported score; no real threshold applies
                fired=False,
                reason=f"The {detector.name} detector failed ({type(error).__name__}); its verdict is missing.",
                evidence={"error": f"{type(error).__name__}: {error}"},
            )
