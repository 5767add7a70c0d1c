"""The detector registry and the pipeline step: run every detector on a conversation, then the policy."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from detectors.explicit_request import ExplicitRequestDetector
from detectors.intent_confidence import IntentConfidenceDetector
from detectors.language import LanguageDetector
from detectors.pattern_similarity import EscalationBank, PatternSimilarityDetector
from detectors.policy import decide
from detectors.sentiment import SentimentDetector
from detectors.stuck import StuckDetector
from detectors.thresholds import Thresholds
from detectors.types import Conversation, Decision, Signal

logger = logging.getLogger(__name__)


class Detector(Protocol):
    """What every detector module provides (see each module's class)."""

    name: str

    def detect(self, conversation: Conversation, thresholds: Any, /) -> Signal: ...


@dataclass(frozen=True, slots=True)
class DetectorContext:
    """What the detectors know about the deployment: its past escalations, the words for its case types, the
    languages its bot speaks, and the intents whose answers may be repeated without the bot being stuck."""

    bank: EscalationBank
    case_labels: Mapping[str, str] = field(default_factory=dict)
    spoken: tuple[str, ...] = ("en",)
    small_talk: frozenset[str] = frozenset()


# Config key -> factory. Every factory takes the deployment's context so they share one signature.
DETECTORS: dict[str, Callable[[DetectorContext], Detector]] = {
    "sentiment": lambda context: SentimentDetector(),
    "intent_confidence": lambda context: IntentConfidenceDetector(),
    "explicit_request": lambda context: ExplicitRequestDetector(context.spoken),
    "pattern_similarity": lambda context: PatternSimilarityDetector(context.bank, context.case_labels),
    "stuck": lambda context: StuckDetector(context.small_talk),
    "language": lambda context: LanguageDetector(context.spoken),
}


def make_detector(key: str, context: DetectorContext | EscalationBank) -> Detector:
    """Build the detector registered under `key`; an unknown key names the known ones."""
    try:
        factory = DETECTORS[key]
    except KeyError:
        raise LookupError(f"unknown detector {key!r}; known detectors: {', '.join(DETECTORS)}") from None
    return factory(_context(context))


def _context(context: DetectorContext | EscalationBank) -> DetectorContext:
    """A bare bank stands for a deployment with nothing else to say (no case types, English only)."""
    return context if isinstance(context, DetectorContext) else DetectorContext(context)


class DetectorSuite:
    """Every detector, built once; `run` judges a conversation's latest customer turn."""

    def __init__(self, detectors: Iterable[Detector]) -> None:
        self.detectors = tuple(detectors)

    @classmethod
    def build(cls, context: DetectorContext | EscalationBank, keys: Iterable[str] | None = None) -> DetectorSuite:
        """Every registered detector (or those named by `keys`, in that order), sharing one context."""
        context = _context(context)
        return cls(make_detector(key, context) for key in (DETECTORS if keys is None else keys))

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
