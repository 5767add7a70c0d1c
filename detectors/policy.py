"""The escalation policy: combine every detector's signal into one decision. Pure functions, no models.

Escalate when any enabled detector fired. The primary trigger is chosen by a fixed precedence an agent
can predict, not by how far each score is above its threshold:

1. explicit_request   - the customer asked for a person; nothing explains a handoff better
2. pattern_similarity - a case type the deployment sends to people (an injury, a legal threat), or a
                        conversation like past escalations: it names the kind of case, which routes and
                        prioritises it
3. language           - the customer writes in a language the bot does not speak
4. sentiment          - the customer is upset
5. stuck              - the bot's answers are not getting the customer anywhere
6. intent_confidence  - the bot does not understand

Margins are not comparable across detectors (a probability, a smoothed average and a cosine live on
different scales), so ranking by margin would let calibration accidents pick the headline. With a fixed
order there are no ties: detectors outside the list come after it, in the order their signals arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from detectors.thresholds import Thresholds
from detectors.types import Decision, Signal

PRECEDENCE: tuple[str, ...] = (
    "explicit_request",
    "pattern_similarity",
    "language",
    "sentiment",
    "stuck",
    "intent_confidence",
)


def is_enabled(detector: str, thresholds: Thresholds) -> bool:
    """Whether a detector may fire; one without a thresholds section has no switch, so it is enabled."""
    section = getattr(thresholds, detector, None)
    return bool(getattr(section, "enabled", True))


def gate(signal: Signal, thresholds: Thresholds) -> Signal:
    """The signal as reported: a disabled detector keeps its score and reason but never fires."""
    if not is_enabled(signal.detector, thresholds):
        return replace(signal, fired=False, evidence={**signal.evidence, "disabled": True})
    return signal


def precedence_rank(detector: str) -> int:
    """Position in PRECEDENCE; unknown detectors rank after every known one."""
    return PRECEDENCE.index(detector) if detector in PRECEDENCE else len(PRECEDENCE)


def decide(signals: Sequence[Signal], thresholds: Thresholds) -> Decision:
    """Escalate if any enabled signal fired; the primary trigger and its reason come first."""
    gated = tuple(gate(signal, thresholds) for signal in signals)
    # sorted() is stable, so equal ranks (unknown detectors) keep their arrival order.
    fired = sorted((s for s in gated if s.fired), key=lambda s: precedence_rank(s.detector))
    if not fired:
        return Decision(escalate=False, trigger=None, reasons=(), signals=gated)
    return Decision(
        escalate=True,
        trigger=fired[0].detector,
        reasons=tuple(s.reason for s in fired),
        signals=gated,
    )
