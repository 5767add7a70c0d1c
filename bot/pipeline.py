"""One customer turn through the models, the detectors and the responder: the same path for the server and replays."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.responder import Reply, Responder
from detectors.records import TurnScores
from detectors.registry import DetectorSuite
from detectors.thresholds import LiveThresholds
from detectors.types import Conversation, Decision, Turn
from models.analysis import TurnAnalysis

logger = logging.getLogger(__name__)

Analyze = Callable[[str], Awaitable[TurnAnalysis]]


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the pipeline made of one customer turn."""

    analysis: TurnAnalysis
    decision: Decision
    reply: Reply | None  # the bot's answer; None when the conversation goes to a person
    shadow: Decision | None = None  # what candidate thresholds would have decided (shadow mode)

    def record(self) -> dict[str, Any]:
        """The scores stored beside the message, so any past conversation can be re-scored and explained."""
        return TurnScores.of(self.analysis, self.decision, self.shadow).to_json()


class Pipeline:
    """Analyse (one encoder pass), detect, then either answer or decide to hand over."""

    def __init__(self, analyze: Analyze, suite: DetectorSuite, responder: Responder, thresholds: LiveThresholds):
        self._analyze = analyze
        self._suite = suite
        self._responder = responder
        self._thresholds = thresholds

    def answer_anyway(self, assessment: Assessment, history: Sequence[Turn] = ()) -> Reply:
        """The bot's answer to a turn that wanted a person while nobody can be reached."""
        return self._responder.reply(
            assessment.analysis, history, people_available=False, language=self._thresholds.current.language
        )

    async def analyze(self, text: str) -> TurnAnalysis:
        return await self._analyze(text)

    async def assess(self, conversation_id: str, history: Sequence[Turn], text: str) -> Assessment:
        analysis = await self._analyze(text)
        # The detectors and the responder take a millisecond or two of Python per turn; on the event loop, a batch
        # of 32 answers would hold every connection's acks back for their sum. In a thread, the loop keeps turns.
        return await asyncio.to_thread(self._judge, conversation_id, tuple(history), text, analysis)

    def _judge(self, conversation_id: str, history: Sequence[Turn], text: str, analysis: TurnAnalysis) -> Assessment:
        conversation = Conversation(conversation_id, (*history, Turn("customer", text, analysis)))
        decision = self._suite.run(conversation, self._thresholds.current)
        shadow = None
        if self._thresholds.shadow is not None:
            # Shadow mode: the candidate judges the same turn; it is recorded and logged, never acted on.
            shadow = self._suite.run(conversation, self._thresholds.shadow)
            if shadow.escalate != decision.escalate:
                logger.info(
                    "shadow thresholds would %s conversation %s (trigger %s)",
                    "escalate" if shadow.escalate else "not escalate",
                    conversation_id,
                    shadow.trigger,
                )
        reply = None
        if not decision.escalate:
            reply = self._responder.reply(analysis, history, language=self._thresholds.current.language)
        return Assessment(analysis, decision, reply, shadow)
