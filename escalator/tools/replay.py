"""Replaying labelled conversations through the real pipeline: the server's code path without the websocket.

Every customer turn is analysed once (batched encoder passes over the whole file); thresholds can then be varied
freely, because only the detectors and the policy depend on them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from bot.pipeline import Pipeline
from detectors.thresholds import LiveThresholds, Thresholds
from detectors.tuning.conversations import LabelledConversation
from detectors.tuning.metrics import Outcome, outcome_from_decisions
from detectors.types import Decision, Turn
from escalator.analysis import Analysis
from models.analysis import TurnAnalysis

ANALYSIS_CHUNK = 256  # messages per batched pass while preparing a replay


class Replayer:
    """Holds the analyses of every customer turn, and replays the conversations under any thresholds."""

    def __init__(
        self,
        analysis: Analysis,
        conversations: Sequence[LabelledConversation],
        on_analysed: Callable[[int], object] = lambda count: None,
        analyses: dict[str, TurnAnalysis] | None = None,
    ) -> None:
        self.analysis = analysis
        self.conversations = list(conversations)
        if analyses is None:
            texts = sorted({t.text for c in self.conversations for t in c.turns if t.role == "customer"})
            analyses = {}
            for start in range(0, len(texts), ANALYSIS_CHUNK):  # in chunks, so progress can be shown
                chunk = texts[start : start + ANALYSIS_CHUNK]
                analyses.update(zip(chunk, analysis.analyze_many(chunk), strict=False))
                on_analysed(len(chunk))
        self.analyses = analyses

    def subset(self, conversations: Sequence[LabelledConversation]) -> Replayer:
        """A replayer of some of these conversations, sharing the analyses already made."""
        return Replayer(self.analysis, conversations, analyses=self.analyses)

    def replay(self, thresholds: Thresholds) -> list[Outcome]:
        return asyncio.run(self._replay_all(thresholds))

    async def _replay_all(self, thresholds: Thresholds) -> list[Outcome]:
        async def analyze(text: str) -> TurnAnalysis:
            return self.analyses[text]

        pipeline = self.analysis.pipeline(analyze, LiveThresholds(thresholds))
        return [await self._replay_one(pipeline, conversation) for conversation in self.conversations]

    @staticmethod
    async def _replay_one(pipeline: Pipeline, conversation: LabelledConversation) -> Outcome:
        history: list[Turn] = []
        decisions: list[Decision] = []
        turns = conversation.turns
        for index, turn in enumerate(turns):
            if turn.role != "customer":
                history.append(Turn(turn.role, turn.text))
                continue
            assessment = await pipeline.assess(conversation.id, history, turn.text)
            decisions.append(assessment.decision)
            history.append(Turn("customer", turn.text, assessment.analysis))
            scripted_reply = index + 1 < len(turns) and turns[index + 1].role != "customer"
            # Where the file has no bot turn, the bot answers as it would have; once escalated it stays quiet.
            if not scripted_reply and assessment.reply is not None and not any(d.escalate for d in decisions):
                reply = assessment.reply
                history.append(Turn("bot", reply.text, intent=reply.intent, offers_person=reply.offers_person))
        return outcome_from_decisions(conversation.id, conversation.expected, decisions, conversation.category)
