"""The composition root: every service of Escalator, built from the settings by one typed function.

- `build_analysis` builds what judges a message: the knowledge base, the models fitted to it, the past-escalation
  bank, the detectors, the responder and the live thresholds. The offline tools, the benchmarks and the tests use
  it as it is (no web framework, no database).
- `build_services` adds the rest of the server around it: the analysis worker, the conversation store, the relay,
  the agents, the handoff service and the customer conversations.

Both take an optional analyzer, so tests can run the whole service on a fake one with no model loaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.conversations import Conversations
from bot.knowledge_base import KnowledgeBase, load_knowledge_base
from bot.pipeline import Analyze, Assessment, Pipeline
from bot.responder import DEFAULT_GREETING, Responder
from detectors.pattern_similarity import EscalationBank
from detectors.registry import DetectorContext, DetectorSuite
from detectors.thresholds import LiveThresholds
from detectors.types import Turn
from escalator.settings import Settings
from handoff.agents import AgentDirectory
from handoff.entities import EntityExtractor, load_spacy
from handoff.relay import EventRelay, LocalRelay
from handoff.service import HandoffDeployment, HandoffService
from handoff.store import ConversationStore
from handoff.threshold_log import ThresholdLog
from models.analysis import Analyzer, DeploymentHeads, TextAnalyzer, TurnAnalysis
from models.embedding_cache import CachingEncoder, cached
from models.encoder import BranchEncoder, Encoder, SentenceEncoder, digest_of
from models.example_classes import fit_from_texts
from models.frustration import FrustrationBaseline, FrustrationHead
from models.heads import SENTIMENT_BRANCH_WEIGHTS, human_request
from models.intent import load_or_fit
from models.language import LanguageIdentifier
from models.sentiment_branch import SentimentBranch
from models.stuck_signs import StuckSigns
from models.worker import AnalysisWorker

logger = logging.getLogger("escalator")


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything that judges a customer message, built once: the same for the server and the offline tools."""

    settings: Settings
    knowledge_base: KnowledgeBase
    analyzer: TextAnalyzer
    bank: EscalationBank
    suite: DetectorSuite
    responder: Responder
    thresholds: LiveThresholds

    def pipeline(self, analyze: Analyze, thresholds: LiveThresholds | None = None) -> Pipeline:
        """The per-turn pipeline on top of an analysis function (the server's worker, or a replay's cache), judging
        with the live thresholds or, for a replay, the ones given."""
        return Pipeline(analyze, self.suite, self.responder, thresholds or self.thresholds)

    def analyze_many(self, texts: Sequence[str]) -> list[TurnAnalysis]:
        """One batched pass for many texts (replays analyse every customer turn of a file this way)."""
        return self.analyzer.analyze(list(texts))

    def assess(self, conversation_id: str, history: Sequence[Turn], text: str) -> Assessment:
        """One turn through the pipeline, synchronously (the `escalator detect` command)."""

        async def analyze(message: str) -> TurnAnalysis:
            return self.analyzer.analyze([message])[0]

        return asyncio.run(self.pipeline(analyze).assess(conversation_id, history, text))

    @property
    def greeting(self) -> str:
        template = self.settings.bot.greeting or self.knowledge_base.greeting or DEFAULT_GREETING
        return template.replace("{store}", self.knowledge_base.name)


def build_analysis(
    settings: Settings,
    *,
    analyzer: TextAnalyzer | None = None,
    encoder: SentenceEncoder | None = None,
    live: bool = False,
) -> Analysis:
    """The knowledge base, the models fitted to it, the bank, the detectors and the responder.

    `live` runs the pass on the configured backend (ONNX Runtime by default), as the server does; offline tools run
    the torch pass. A given `analyzer` (a test's fake) replaces the models; `encoder` shares an already loaded one.
    """
    knowledge_base = load_knowledge_base(settings.bot.knowledge_base)
    if analyzer is None:
        encoder = encoder or SentenceEncoder(threads=settings.models.torch_threads)
        backend = settings.models.backend if live else "torch"
        analyzer = build_analyzer(
            encoder, knowledge_base, settings.models.cache_dir, backend, settings.models.torch_threads
        )
    bank = load_bank(knowledge_base, analyzer.encoder, settings.models.cache_dir)
    return Analysis(
        settings=settings,
        knowledge_base=knowledge_base,
        analyzer=analyzer,
        bank=bank,
        suite=DetectorSuite.build(detector_context(knowledge_base, bank)),
        responder=Responder(knowledge_base, settings.bot.match_threshold, settings.bot.out_of_scope),
        thresholds=LiveThresholds(settings.detectors, settings.shadow_detectors),
    )


@dataclass(frozen=True, slots=True)
class Services:
    """The running service's parts; the app factory hands each router the ones it needs."""

    analysis: Analysis
    worker: AnalysisWorker
    store: ConversationStore
    relay: EventRelay
    agents: AgentDirectory
    handoff: HandoffService
    threshold_log: ThresholdLog
    conversations: Conversations
    generated_admin_password: str | None = None  # set only at the first start, to be shown once

    def close(self) -> None:
        self.worker.close()
        self.store.close()


LOAD_SPACY: Any = object()  # the default of `entity_nlp`: load spaCy's model; None runs the entity rules without it


def build_services(settings: Settings, *, analyzer: TextAnalyzer | None = None, encoder: SentenceEncoder | None = None,
                   entity_nlp: Any = LOAD_SPACY) -> Services:  # fmt: skip
    """Every part of the server, wired: one function, used by the app factory, the tests and the benchmarks."""
    store = ConversationStore(settings.database.url)
    store.create_schema()
    analysis = build_analysis(settings, analyzer=analyzer, encoder=encoder, live=True)
    worker = AnalysisWorker(analysis.analyzer.analyze, settings.models.max_batch, settings.models.max_wait_ms)
    relay = LocalRelay()
    agents = AgentDirectory(store, settings.handoff.session_hours, settings.handoff.password_memory_kib)
    for config in settings.handoff.agents:
        agents.upsert(config)
    admin_password = settings.admin_password.get_secret_value() if settings.admin_password else None
    generated = agents.ensure_admin(admin_password)
    knowledge_base = analysis.knowledge_base
    handoff = HandoffService(
        store,
        relay,
        settings.handoff.with_teams(knowledge_base.teams),
        agents,
        HandoffDeployment(
            extractor=EntityExtractor(
                knowledge_base.products, nlp=load_spacy() if entity_nlp is LOAD_SPACY else entity_nlp
            ),
            bank=analysis.bank,
            embed=embedder(worker),
            intent_topics=knowledge_base.topics,
            case_priorities={case.name: case.priority for case in knowledge_base.case_types},
        ),
    )
    handoff.load_bank_entries()
    pipeline = analysis.pipeline(worker.analyze)
    return Services(
        analysis=analysis,
        worker=worker,
        store=store,
        relay=relay,
        agents=agents,
        handoff=handoff,
        threshold_log=ThresholdLog(store, analysis.thresholds),
        conversations=Conversations(store, relay, pipeline, handoff, greeting=analysis.greeting),
        generated_admin_password=generated,
    )


# --- The models, fitted to one knowledge base -----------------------------------------------------------------


def build_analyzer(
    encoder: SentenceEncoder, knowledge_base: KnowledgeBase, cache_dir: Path, backend: str = "torch", threads: int = 1
) -> Analyzer:
    """The shared pass with the sentiment branch inside it, then every head on its embeddings; the intent model, the
    case types and the frustration baseline are fitted to the knowledge base. `backend` "onnx" runs the pass on
    ONNX Runtime."""
    intents = load_or_fit(knowledge_base.examples(), encoder, cache_dir / "intent")
    branch = encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS)
    live_pass: BranchEncoder = encoder
    if backend == "onnx":
        live_pass = onnx_or_torch(encoder, branch, cache_dir / "onnx", threads)
    heads = fit_deployment_heads(encoder, branch, knowledge_base, cache_dir)
    return Analyzer(live_pass, branch, human_request(), intents, deployment=heads)


def fit_deployment_heads(
    encoder: SentenceEncoder, branch: SentimentBranch, knowledge_base: KnowledgeBase, cache_dir: Path
) -> DeploymentHeads:
    """The heads every deployment fits to itself at start-up; the encoder's outputs for its fixed texts are cached."""
    cached_encoder = CachingEncoder(encoder, cache_dir / "embeddings")
    routine = [text for text, _ in knowledge_base.examples()]
    cases = None
    if knowledge_base.case_types:
        examples = {case.name: case.examples for case in knowledge_base.case_types}
        cases = fit_from_texts(cached_encoder, examples, [*routine, *knowledge_base.not_cases])
    frustration = FrustrationHead.load()
    probabilities = cached(
        routine,
        lambda texts: encoder.encode_with_branch(texts, branch)[1],
        cache_dir / "embeddings",
        f"branch-{digest_of(branch)[:12]}",
    )
    routine_log_odds = frustration.log_odds(cached_encoder.encode(routine), probabilities)
    intents = [name for _, name in knowledge_base.examples()]
    return DeploymentHeads(
        cases=cases,
        signs=StuckSigns.load(),
        frustration=frustration,
        baseline=FrustrationBaseline.fit(routine_log_odds.tolist(), intents, frustration.reference),
        languages=LanguageIdentifier(),
    )


def load_bank(knowledge_base: KnowledgeBase, encoder: Encoder, cache_dir: Path) -> EscalationBank:
    """The deployment's past escalations (empty without any); their vectors are cached, not encoded at every start."""
    if knowledge_base.past_escalations is None:
        return EscalationBank(dim=encoder.dim)
    return EscalationBank.from_seed_file(
        knowledge_base.past_escalations, CachingEncoder(encoder, cache_dir / "embeddings")
    )


def detector_context(knowledge_base: KnowledgeBase, bank: EscalationBank) -> DetectorContext:
    """What the detectors need to know about the deployment."""
    return DetectorContext(
        bank=bank,
        case_labels={case.name: case.label for case in knowledge_base.case_types},
        spoken=knowledge_base.languages,
        small_talk=frozenset(i.name for i in knowledge_base.intents if i.topic == "small_talk"),
    )


def onnx_or_torch(encoder: SentenceEncoder, branch: SentimentBranch, cache_dir: Path, threads: int) -> BranchEncoder:
    """The ONNX Runtime pass; if it cannot be built, the torch pass, which is slower but gives the same answers."""
    try:
        from models.onnx_pass import OnnxPass, export_path

        if not export_path(encoder, branch, cache_dir).exists():
            print(
                f"Exporting the encoder pass for ONNX Runtime, once (about a minute); it is kept in {cache_dir}",
                flush=True,
            )
        return OnnxPass(encoder, branch, cache_dir, threads)
    except Exception as error:  # a missing runtime or a failed export must not keep the service down
        logger.warning("the ONNX Runtime pass is unavailable, serving with the torch pass instead: %s", error)
        return encoder


def embedder(worker: AnalysisWorker) -> Callable[[list[str]], Awaitable[np.ndarray]]:
    """Embeddings through the shared worker, for the rare callers that need vectors of stored texts."""

    async def embed(texts: list[str]) -> np.ndarray:
        analyses = await asyncio.gather(*(worker.analyze(t) for t in texts))
        return np.stack([a.embedding for a in analyses])

    return embed
