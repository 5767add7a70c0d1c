"""The app factory: the one place that wires settings, store, models, detectors, handoff and routes together."""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Awaitable, Callable

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from agent_console import admin as agent_admin
from agent_console import api as agent_api
from agent_console import socket as agent_socket
from bot import chat
from bot.api_docs import add_api_docs
from bot.conversations import Conversations
from bot.knowledge_base import KnowledgeBase, load_knowledge_base
from bot.pipeline import Pipeline
from bot.responder import Responder
from bot.settings import ConfigError, Settings, load_settings
from detectors.pattern_similarity import EscalationBank
from detectors.registry import DetectorContext, DetectorSuite
from detectors.thresholds import LiveThresholds
from handoff.agents import AgentDirectory, AgentNotFound, LoginFailed
from handoff.entities import EntityExtractor, load_spacy
from handoff.ownership import IllegalTransition
from handoff.relay import LocalRelay
from handoff.service import HandoffService
from handoff.store import ConversationNotFound, ConversationStore
from handoff.threshold_log import ThresholdLog
from handoff.tickets import TicketConflict, TicketNotFound
from models.analysis import Analyzer, DeploymentHeads
from models.embedding_cache import CachingEncoder, cached
from models.encoder import BranchEncoder, Encoder, SentenceEncoder, digest_of
from models.example_classes import fit_from_texts
from models.frustration import FrustrationBaseline, FrustrationHead
from models.language import LanguageIdentifier
from models.stuck_signs import StuckSigns
from models.heads import SENTIMENT_BRANCH_WEIGHTS, human_request
from models.intent import load_or_fit
from models.worker import AnalysisWorker

if TYPE_CHECKING:
    from models.sentiment_branch import SentimentBranch

logger = logging.getLogger("escalator")

STATIC = Path(__file__).resolve().parent / "static"
CONSOLE = Path(__file__).resolve().parents[1] / "agent_console" / "static"
SHUTDOWN_GRACE_S = 5.0  # how long background tasks get to stop at shutdown
DEFAULT_GREETING = (
    "Hi! I'm the {store} assistant, a bot. Ask me a question in your own words. "
    "If you'd like a person at any point, just say so."
)

# Pages render user text with textContent; the CSP is the second line of defence.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'"
)


def build_analyzer(
    encoder: SentenceEncoder, knowledge_base: KnowledgeBase, cache_dir: Path, backend: str = "torch", threads: int = 1
) -> Analyzer:
    """The shared pass with the sentiment branch inside it, then every head on its embeddings; the intent
    model, the case types, the stuck signs and the routine negativity are fitted to the knowledge base.
    `backend` "onnx" runs the pass on ONNX Runtime."""
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
        routine, lambda texts: encoder.encode_with_branch(texts, branch)[1], cache_dir / "embeddings",
        f"branch-{digest_of(branch)[:12]}",
    )
    routine_log_odds = frustration.log_odds(cached_encoder.encode(routine), probabilities)
    return DeploymentHeads(
        cases=cases,
        signs=StuckSigns.load(),
        frustration=frustration,
        baseline=FrustrationBaseline.fit(
            routine_log_odds.tolist(), [name for _, name in knowledge_base.examples()], frustration.reference
        ),
        languages=LanguageIdentifier(),
    )


def load_bank(knowledge_base: KnowledgeBase, encoder: Encoder, cache_dir: Path) -> EscalationBank:
    """The deployment's past escalations (empty without any); their vectors are cached rather than encoded at every start."""
    if knowledge_base.past_escalations is None:
        return EscalationBank(dim=encoder.dim)
    return EscalationBank.from_seed_file(knowledge_base.past_escalations, CachingEncoder(encoder, cache_dir / "embeddings"))


def detector_context(knowledge_base: KnowledgeBase, bank: EscalationBank) -> DetectorContext:
    """What the detectors need to know about the deployment."""
    return DetectorContext(
        bank=bank,
        case_labels={case.name: case.label for case in knowledge_base.case_types},
        spoken=knowledge_base.languages,
        small_talk=frozenset(i.name for i in knowledge_base.intents if i.topic == "small_talk"),
    )


def make_responder(knowledge_base: KnowledgeBase, settings: Settings) -> Responder:
    return Responder(knowledge_base, settings.bot.match_threshold, settings.bot.out_of_scope)


def onnx_or_torch(encoder: SentenceEncoder, branch: SentimentBranch, cache_dir: Path, threads: int) -> BranchEncoder:
    """The ONNX Runtime pass; if it cannot be built, the torch pass, which is slower but gives the same answers."""
    try:
        from models.onnx_pass import OnnxPass, export_path

        if not export_path(encoder, branch, cache_dir).exists():
            print(f"Exporting the encoder pass for ONNX Runtime, once (about 20 s); it is kept in {cache_dir}", flush=True)
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


def create_app(
    settings: Settings, encoder: SentenceEncoder | None = None, entity_nlp: object | None = None, config_file: Path | None = None
) -> FastAPI:
    """Build the service. Nothing heavy happens until the lifespan starts (models, database, workers).

    With `config_file`, thresholds reload from it whenever it changes, without a restart.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = ConversationStore(settings.database.url)
        store.create_schema()
        knowledge_base = load_knowledge_base(settings.bot.knowledge_base)
        shared_encoder = encoder or SentenceEncoder(threads=settings.models.torch_threads)
        analyzer = build_analyzer(
            shared_encoder, knowledge_base, settings.models.cache_dir, settings.models.backend, settings.models.torch_threads
        )
        worker = AnalysisWorker(analyzer.analyze, settings.models.max_batch, settings.models.max_wait_ms)
        # The seed file rarely changes: its vectors are cached rather than encoded at every start.
        bank = load_bank(knowledge_base, shared_encoder, settings.models.cache_dir)
        thresholds = LiveThresholds(settings.detectors, settings.shadow_detectors)
        responder = make_responder(knowledge_base, settings)
        pipeline = Pipeline(worker.analyze, DetectorSuite.build(detector_context(knowledge_base, bank)), responder, thresholds)
        relay = LocalRelay()
        agents = _agent_directory(store, settings)
        handoff = HandoffService(
            store,
            relay,
            settings.handoff.with_teams(knowledge_base.teams),
            agents,
            EntityExtractor(knowledge_base.products, nlp=entity_nlp if entity_nlp is not None else load_spacy()),
            settings.handoff.priority,
            bank,
            embedder(worker),
            {intent.name: intent.topic for intent in knowledge_base.intents},
            case_priorities={case.name: case.priority for case in knowledge_base.case_types},
        )
        handoff.load_bank_entries()
        greeting = (settings.bot.greeting or knowledge_base.greeting or DEFAULT_GREETING).replace("{store}", knowledge_base.name)
        app.state.settings = settings
        app.state.store = store
        app.state.relay = relay
        app.state.agents = agents
        app.state.handoff = handoff
        app.state.thresholds = thresholds
        app.state.knowledge_base = knowledge_base
        app.state.bank = bank
        app.state.threshold_log = ThresholdLog(store, thresholds)
        app.state.conversations = Conversations(store, relay, pipeline, handoff, greeting=greeting)
        background = [asyncio.create_task(handoff.run_dispatcher(settings.handoff.dispatch_interval_s))]
        if config_file is not None:
            background.append(asyncio.create_task(watch_thresholds(config_file, app.state.threshold_log)))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            # Bounded, so that a task which missed its cancellation is reported instead of hanging the shutdown.
            _, stuck = await asyncio.wait(background, timeout=SHUTDOWN_GRACE_S)
            for task in stuck:
                logger.error("background task %s did not stop within %s s", task.get_coro().__qualname__, SHUTDOWN_GRACE_S)
            await app.state.conversations.drain()
            worker.close()
            store.close()

    app = FastAPI(title="Escalator", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.include_router(chat.router)
    app.include_router(agent_api.router)
    app.include_router(agent_admin.router)
    app.include_router(agent_socket.router)
    _add_error_handlers(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        frame_ancestors = "'none'" if request.url.path.startswith(("/console", "/api/agent")) else "*"
        response.headers.setdefault("Content-Security-Policy", f"{CSP}; frame-ancestors {frame_ancestors}")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    # The fixed pages: the demo store with the widget, and the console's shell.
    for path, file in {"/": STATIC / "demo.html", "/widget.js": STATIC / "widget.js", "/demo.js": STATIC / "demo.js",
                       "/console": CONSOLE / "console.html"}.items():
        app.add_api_route(path, _serve_file(file), methods=["GET"], include_in_schema=False)

    @app.get("/console/{name}", include_in_schema=False)
    async def console_asset(name: str) -> Response:
        path = (CONSOLE / name).resolve()
        if path.parent != CONSOLE or not path.is_file():
            return JSONResponse({"detail": "not found"}, status_code=404)
        return FileResponse(path)

    add_api_docs(app)

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        """Liveness: the process is up and its models are loaded."""
        return {"status": "ok"}

    return app


async def watch_thresholds(config_file: Path, log: ThresholdLog) -> None:
    """Reload the thresholds whenever the config file changes; an invalid file is reported and ignored."""
    from watchfiles import awatch

    async for _changes in awatch(config_file, debounce=200, recursive=False):
        try:
            fresh = await asyncio.to_thread(load_settings, config_file)
        except ConfigError as error:
            logger.error("config file changed but was not applied: %s", error)
            continue
        made = await asyncio.to_thread(log.apply, f"file:{config_file}", fresh.detectors, fresh.shadow_detectors,
                                       fresh.shadow_detectors is None)
        for change in made:
            logger.info("thresholds reloaded from %s (%s)", config_file, change["target"])


def _serve_file(path: Path) -> Callable[[], Awaitable[Response]]:
    async def serve() -> Response:
        return FileResponse(path)  # the media type follows the file's extension

    return serve


def _agent_directory(store: ConversationStore, settings: Settings) -> AgentDirectory:
    agents = AgentDirectory(store, settings.handoff.session_hours)
    for config in settings.handoff.agents:
        agents.upsert(config)
    generated = agents.ensure_admin(os.environ.get("ESCALATOR_ADMIN_PASSWORD"))
    if generated:
        # Printed once, at the first start; set ESCALATOR_ADMIN_PASSWORD to choose it instead.
        print(f"Created the first admin for the agent console: user 'admin', password '{generated}'", flush=True)
    return agents


def _add_error_handlers(app: FastAPI) -> None:
    """The web layer is the only place that turns our exceptions into HTTP statuses."""
    statuses = {
        TicketNotFound: 404,
        AgentNotFound: 404,
        ConversationNotFound: 404,
        TicketConflict: 409,
        IllegalTransition: 409,
        LoginFailed: 401,
    }
    for error_type, code in statuses.items():
        app.add_exception_handler(error_type, _handler(code))
    app.add_exception_handler(ValueError, _handler(422))


def _handler(code: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(_request: Request, error: Exception) -> Response:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return handle
