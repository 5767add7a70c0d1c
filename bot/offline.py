"""The pipeline without a server: the same analysis, detectors and responder, for the developers' commands."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from bot.app import build_analyzer, detector_context, load_bank, make_responder
from bot.knowledge_base import KnowledgeBase, load_knowledge_base
from bot.pipeline import Assessment, Pipeline
from bot.responder import Responder
from bot.settings import Settings
from detectors.pattern_similarity import EscalationBank
from detectors.registry import DetectorSuite
from detectors.thresholds import LiveThresholds
from detectors.types import Turn
from models.analysis import Analyzer, TurnAnalysis
from models.embedding_cache import CachingEncoder
from models.encoder import Encoder, SentenceEncoder


@dataclass(slots=True)
class OfflinePipeline:
    """Everything the server's pipeline has, built once, driven synchronously."""

    settings: Settings
    encoder: Encoder
    knowledge_base: KnowledgeBase
    analyzer: Analyzer
    bank: EscalationBank
    thresholds: LiveThresholds
    pipeline: Pipeline

    def assess(self, conversation_id: str, history: Sequence[Turn], text: str) -> Assessment:
        return asyncio.run(self.pipeline.assess(conversation_id, history, text))

    def analyze_many(self, texts: Sequence[str]) -> list[TurnAnalysis]:
        """One batched encoder pass for many texts (replays pre-compute every customer turn this way)."""
        return self.analyzer.analyze(list(texts))


def build_offline_pipeline(settings: Settings, encoder: SentenceEncoder | None = None) -> OfflinePipeline:
    encoder = encoder or SentenceEncoder(threads=settings.models.torch_threads)
    knowledge_base = load_knowledge_base(settings.bot.knowledge_base)
    analyzer = build_analyzer(encoder, knowledge_base, Path(settings.models.cache_dir))
    bank = load_bank(knowledge_base, encoder, Path(settings.models.cache_dir))
    thresholds = LiveThresholds(settings.detectors)

    async def analyze(text: str) -> TurnAnalysis:
        return analyzer.analyze([text])[0]

    suite = DetectorSuite.build(detector_context(knowledge_base, bank))
    pipeline = Pipeline(analyze, suite, make_responder(knowledge_base, settings), thresholds)
    return OfflinePipeline(settings, encoder, knowledge_base, analyzer, bank, thresholds, pipeline)


def read_history(path: Path) -> list[tuple[str, str]]:
    """A plain-text history: one turn per line, optionally prefixed 'customer:', 'bot:' or 'agent:'."""
    turns = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        role, _, rest = text.partition(":")
        if role.strip().lower() in ("customer", "bot", "agent") and rest.strip():
            turns.append((role.strip().lower(), rest.strip()))
        else:
            turns.append(("customer", text))
    if not turns:
        raise ValueError(f"{path}: no turns found")
    return turns
