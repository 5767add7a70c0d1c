"""The composition root: every service of Escalator, built from the settings in two typed steps.

- `build_services` builds what serves at once: the conversation store and its writer, the relay, the agents, the
  handoff service and the customer conversations. It loads no model, so the server acks messages within a second
  or two of starting.
- `load_models` then builds what judges a message (`escalator.analysis`: torch, the ONNX pass, the fits to the
  knowledge base; seconds) and `Services.attach` hands it over; turns taken meanwhile are answered then.

Both take an optional analyzer, so tests can run the whole service on a fake one with no model loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.conversations import AnswerStage, Conversations
from bot.knowledge_base import KnowledgeBase, load_knowledge_base
from bot.new_conversations import NewConversationLimit
from bot.responder import DEFAULT_GREETING
from detectors.thresholds import LiveThresholds
from escalator.settings import Settings
from handoff.agents import AgentDirectory
from handoff.entities import EntityExtractor, load_spacy
from handoff.relay import EventRelay, LocalRelay
from handoff.service import HandoffDeployment, HandoffService
from handoff.store import ConversationStore
from handoff.threshold_log import ThresholdLog
from handoff.writer import Writer
from models.analysis import TextAnalyzer
from models.encoder import SentenceEncoder
from models.worker import AnalysisWorker

if TYPE_CHECKING:  # importing it loads torch and scikit-learn, which `load_models` does in the background
    from escalator.analysis import Analysis

LOAD_SPACY: Any = object()  # the default of `entity_nlp`: load spaCy's model; None runs the entity rules without it


@dataclass(frozen=True, slots=True)
class Models:
    """What `load_models` builds: the analysis, the worker that batches its passes, and the handoff's share."""

    analysis: Analysis
    worker: AnalysisWorker
    deployment: HandoffDeployment


@dataclass(slots=True)
class Services:
    """The running service's parts; the app factory hands each router the ones it needs."""

    settings: Settings
    knowledge_base: KnowledgeBase
    store: ConversationStore
    writer: Writer
    relay: EventRelay
    agents: AgentDirectory
    handoff: HandoffService
    thresholds: LiveThresholds
    threshold_log: ThresholdLog
    conversations: Conversations
    generated_admin_password: str | None = None  # set only at the first start, to be shown once
    models: Models | None = None  # set once the models have loaded

    @property
    def analysis(self) -> Analysis:
        if self.models is None:
            raise RuntimeError("the models have not loaded yet")
        return self.models.analysis

    def attach(self, models: Models) -> None:
        """The models have loaded: the handoff and the conversations start using them (call on the event loop)."""
        self.models = models
        self.handoff.attach(models.deployment)
        self.conversations.attach(models.analysis.pipeline(models.worker.analyze))

    def close(self) -> None:
        if self.models is not None:
            self.models.worker.close()
        self.writer.close()
        self.store.close()


def build_services(settings: Settings) -> Services:
    """Every part of the server but the models, wired: used by the app factory, the tests and the benchmarks."""
    store = ConversationStore(settings.database.url)
    store.create_schema()
    writer = Writer(store.session)
    knowledge_base = load_knowledge_base(settings.bot.knowledge_base)
    relay = LocalRelay()
    agents = AgentDirectory(store, settings.handoff.session_hours, settings.handoff.password_memory_kib)
    for config in settings.handoff.agents:
        agents.upsert(config)
    admin_password = settings.admin_password.get_secret_value() if settings.admin_password else None
    generated = agents.ensure_admin(admin_password)
    handoff = HandoffService(store, writer, relay, settings.handoff.with_teams(knowledge_base.teams), agents)
    conversations = Conversations(
        store,
        writer,
        relay,
        handoff,
        greeting=greeting(settings, knowledge_base),
        stage=AnswerStage(settings.server.max_waiting_turns, settings.server.typing_after_s),
        new_conversations=NewConversationLimit(settings.server.new_conversations_per_minute),
    )
    thresholds = LiveThresholds(settings.detectors, settings.shadow_detectors)
    return Services(
        settings=settings,
        knowledge_base=knowledge_base,
        store=store,
        writer=writer,
        relay=relay,
        agents=agents,
        handoff=handoff,
        thresholds=thresholds,
        threshold_log=ThresholdLog(store, thresholds),
        conversations=conversations,
        generated_admin_password=generated,
    )


def load_models(
    services: Services,
    *,
    analyzer: TextAnalyzer | None = None,
    encoder: SentenceEncoder | None = None,
    entity_nlp: Any = LOAD_SPACY,
) -> Models:
    """Build what judges a message for `services` (blocking, seconds: run it off the event loop).

    `analyzer`, `encoder` and `entity_nlp` replace the models (tests pass fakes, or share loaded ones)."""
    from escalator.analysis import build_analysis

    settings, knowledge_base = services.settings, services.knowledge_base
    analysis = build_analysis(
        settings,
        analyzer=analyzer,
        encoder=encoder,
        live=True,
        thresholds=services.thresholds,
        knowledge_base=knowledge_base,
    )
    # A first run of each batch shape makes ONNX Runtime plan and allocate; done here, no customer waits for it.
    for size in (1, settings.models.max_batch):
        analysis.analyzer.analyze(["Warming up: where is my order?"] * size)
    worker = AnalysisWorker(analysis.analyzer.analyze, settings.models.max_batch, settings.models.max_wait_ms)
    deployment = HandoffDeployment(
        extractor=EntityExtractor(
            knowledge_base.products, nlp=load_spacy() if entity_nlp is LOAD_SPACY else entity_nlp
        ),
        bank=analysis.bank,
        embed=embedder(worker),
        intent_topics=knowledge_base.topics,
        case_priorities={case.name: case.priority for case in knowledge_base.case_types},
    )
    return Models(analysis, worker, deployment)


def greeting(settings: Settings, knowledge_base: KnowledgeBase) -> str:
    """The bot's first message: the configured one, else the knowledge base's, else the default."""
    template = settings.bot.greeting or knowledge_base.greeting or DEFAULT_GREETING
    return template.replace("{store}", knowledge_base.name)


def embedder(worker: AnalysisWorker) -> Callable[[list[str]], Awaitable[np.ndarray]]:
    """Embeddings through the shared worker, for the rare callers that need vectors of stored texts."""

    async def embed(texts: list[str]) -> np.ndarray:
        analyses = await asyncio.gather(*(worker.analyze(t) for t in texts))
        return np.stack([a.embedding for a in analyses])

    return embed
