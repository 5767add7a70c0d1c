"""The app factory: the one place that wires settings, store, models, detectors, handoff and routes together."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

import numpy as np
from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot import chat
from bot.conversations import Conversations
from bot.knowledge_base import KnowledgeBase, load_knowledge_base
from bot.pipeline import Pipeline
from bot.responder import Responder
from bot.settings import Settings
from detectors.pattern_similarity import EscalationBank
from detectors.registry import DetectorSuite
from detectors.thresholds import Thresholds
from handoff.relay import LocalRelay
from handoff.service import HandoffService
from handoff.store import ConversationStore
from models.analysis import Analyzer
from models.encoder import Encoder, SentenceEncoder
from models.heads import load_head
from models.intent import load_or_fit
from models.worker import AnalysisWorker

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
WEIGHTS = Path(__file__).resolve().parents[1] / "models" / "weights"
SEED_BANK = Path(__file__).resolve().parents[1] / "detectors" / "data" / "escalation_bank.jsonl"


@dataclass(slots=True)
class ThresholdsHolder:
    """The thresholds in force; swapped whole on a hot reload, read once per turn."""

    current: Thresholds

    def __call__(self) -> Thresholds:
        return self.current


def build_analyzer(encoder: Encoder, knowledge_base: KnowledgeBase, cache_dir: Path) -> Analyzer:
    """Every head on the shared encoder's embeddings; the intent model is trained from the knowledge base."""
    sentiment = load_head(WEIGHTS / "sentiment.npz")
    human = load_head(WEIGHTS / "human_request.npz")
    negative_index, human_index = sentiment.index("negative"), human.index("human")
    intents = load_or_fit(knowledge_base.examples(), encoder, cache_dir / "intent")

    def negative(embeddings: np.ndarray) -> np.ndarray:
        return sentiment.predict_proba(embeddings)[:, negative_index]

    def human_request(embeddings: np.ndarray) -> np.ndarray:
        return human.predict_proba(embeddings)[:, human_index]

    return Analyzer(encoder, negative, human_request, intents)


def create_app(settings: Settings, encoder: Encoder | None = None) -> FastAPI:
    """Build the service. Nothing heavy happens until the lifespan starts (models, database, workers)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = ConversationStore(settings.database.url)
        store.create_schema()
        knowledge_base = load_knowledge_base(settings.bot.knowledge_base)
        shared_encoder = encoder or SentenceEncoder(threads=settings.models.torch_threads)
        analyzer = build_analyzer(shared_encoder, knowledge_base, settings.models.cache_dir)
        worker = AnalysisWorker(analyzer.analyze, settings.models.max_batch, settings.models.max_wait_ms)
        bank = EscalationBank.from_seed_file(SEED_BANK, shared_encoder)
        thresholds = ThresholdsHolder(settings.detectors)
        pipeline = Pipeline(worker.analyze, DetectorSuite.build(bank), Responder(knowledge_base, settings.bot.match_threshold), thresholds)
        relay = LocalRelay()
        greeting = settings.bot.greeting.format(store=knowledge_base.name)
        app.state.settings = settings
        app.state.store = store
        app.state.thresholds = thresholds
        app.state.knowledge_base = knowledge_base
        app.state.bank = bank
        app.state.conversations = Conversations(store, relay, pipeline, HandoffService(store), greeting=greeting)
        try:
            yield
        finally:
            await app.state.conversations.drain()
            worker.close()
            store.close()

    app = FastAPI(title="Escalator", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.include_router(chat.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def demo_page() -> Response:
        return FileResponse(STATIC / "demo.html", media_type="text/html")

    @app.get("/widget.js", include_in_schema=False)
    async def widget_script() -> Response:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        """Liveness: the process is up and its models are loaded."""
        return {"status": "ok"}

    return app
