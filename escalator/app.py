"""The app factory: the web service around the services `escalator.services` builds."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from types import CoroutineType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from agent_console import admin as agent_admin
from agent_console import api as agent_api
from agent_console import socket as agent_socket
from agent_console.context import ConsoleContext
from bot import chat
from bot.context import ChatContext
from escalator.api_docs import add_api_docs
from escalator.services import LOAD_SPACY, Services, build_services, load_models
from escalator.settings import ConfigError, Settings, load_settings
from handoff.agents import AgentNotFound, LoginFailed
from handoff.errors import InvalidRequest, NotAllowed
from handoff.ownership import IllegalTransition
from handoff.store import ConversationNotFound
from handoff.threshold_log import ThresholdLog
from handoff.tickets import TicketConflict, TicketNotFound
from models.analysis import TextAnalyzer
from models.encoder import SentenceEncoder

logger = logging.getLogger("escalator")

STATIC = Path(__file__).resolve().parents[1] / "bot" / "static"
CONSOLE = Path(__file__).resolve().parents[1] / "agent_console" / "static"
SHUTDOWN_GRACE_S = 5.0  # how long background tasks get to stop at shutdown

# Pages render user text with textContent; the CSP is the second line of defence.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'"
)


def create_app(
    settings: Settings,
    *,
    analyzer: TextAnalyzer | None = None,
    encoder: SentenceEncoder | None = None,
    entity_nlp: Any = LOAD_SPACY,
    config_file: Path | None = None,
) -> FastAPI:
    """Build the service. Nothing heavy happens until the lifespan starts (models, database, workers).

    `analyzer`, `encoder` and `entity_nlp` replace the models (tests pass fakes, or share loaded ones). With
    `config_file`, thresholds reload from it whenever it changes, without a restart.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        io_pool = ThreadPoolExecutor(settings.server.io_threads, thread_name_prefix="escalator-io")
        loop.set_default_executor(io_pool)  # asyncio.to_thread's pool: sized here, not by the CPU count
        services = await asyncio.to_thread(build_services, settings)
        if services.generated_admin_password:
            # Printed once, at the first start; set ESCALATOR_ADMIN_PASSWORD to choose it instead.
            print(f"Created the first admin for the agent console: user 'admin', password "
                  f"'{services.generated_admin_password}'", flush=True)  # fmt: skip
        app.state.services = services
        app.state.chat = ChatContext(services.conversations, settings.server)
        app.state.console = ConsoleContext(
            services.agents, services.handoff, services.relay, services.store, services.threshold_log
        )
        app.state.models = ModelLoading()
        loading = asyncio.create_task(
            app.state.models.load(services, analyzer=analyzer, encoder=encoder, entity_nlp=entity_nlp)
        )
        if analyzer is not None:
            await loading  # models handed in are loaded already: nothing to serve around
        else:
            loading.add_done_callback(_stop_if_failed)
        # Messages acknowledged before the last run stopped and never answered: answered as soon as the models are in.
        await services.conversations.recover()
        background = [
            loading,
            asyncio.create_task(services.handoff.run_dispatcher(settings.handoff.dispatch_interval_s)),
            asyncio.create_task(purge_sessions(services)),
        ]
        if config_file is not None:
            background.append(asyncio.create_task(watch_thresholds(config_file, services.threshold_log)))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            # Bounded, so that a task which missed its cancellation is reported instead of hanging the shutdown.
            _, stuck = await asyncio.wait(background, timeout=SHUTDOWN_GRACE_S)
            for task in stuck:
                coro = task.get_coro()  # always an `async def` coroutine here; the fallback is for the type checker
                name = coro.__qualname__ if isinstance(coro, CoroutineType) else task.get_name()
                logger.error("background task %s did not stop within %s s", name, SHUTDOWN_GRACE_S)
            if services.conversations.ready:
                await services.conversations.drain()
            services.close()
            io_pool.shutdown(wait=False)

    app = FastAPI(title="Escalator", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
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
    pages = {"/": STATIC / "demo.html", "/widget.js": STATIC / "widget.js", "/demo.js": STATIC / "demo.js",
             "/console": CONSOLE / "console.html"}  # fmt: skip
    for path, file in pages.items():
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
        """Liveness: the process is up and taking messages (their answers may wait for the models)."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the models have loaded and the bot answers. 503 while they load, or if they failed to."""
        loading: ModelLoading | None = getattr(request.app.state, "models", None)
        if loading is None or not loading.loaded:
            status = "failed" if loading is not None and loading.error else "loading"
            detail = {"status": status, **({"error": loading.error} if loading and loading.error else {})}
            return JSONResponse(detail, status_code=503)
        return JSONResponse({"status": "ready", "loaded_in_s": loading.seconds})

    return app


class ModelLoading:
    """Loads the models off the event loop, on a thread of its own, and hands them to the services."""

    def __init__(self) -> None:
        self.loaded = False
        self.error: str | None = None
        self.seconds: float | None = None

    async def load(self, services: Services, **models: Any) -> None:
        started = time.perf_counter()
        loader = ThreadPoolExecutor(1, thread_name_prefix="model-loader")  # not the I/O pool: it must stay free
        try:
            built = await asyncio.get_running_loop().run_in_executor(
                loader, functools.partial(load_models, services, **models)
            )
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"
            logger.critical("the models failed to load: %s", self.error, exc_info=error)
            raise
        finally:
            loader.shutdown(wait=False)
        services.attach(built)
        # Everything loaded so far lives as long as the process: out of the collector's sight, a full collection
        # no longer walks the models' millions of objects and stalls every connection while it does.
        gc.freeze()
        self.seconds = round(time.perf_counter() - started, 2)
        self.loaded = True
        logger.info("models loaded in %.1f s; the bot answers", self.seconds)


def _stop_if_failed(loading: asyncio.Task[None]) -> None:
    """Without models the bot cannot answer: stop the server, so that a supervisor restarts it or alerts."""
    if not loading.cancelled() and loading.exception() is not None:
        os.kill(os.getpid(), signal.SIGTERM)


SESSION_PURGE_EVERY_S = 3600.0


async def purge_sessions(services: Services, every_s: float = SESSION_PURGE_EVERY_S) -> None:
    """Delete expired agent sessions now and then: a login that ended must not linger in the database."""
    while True:
        try:
            purged = await asyncio.to_thread(services.agents.purge_expired_sessions)
            if purged:
                logger.info("purged %d expired agent sessions", purged)
        except Exception:  # a failed purge is retried at the next round; it must not stop the loop
            logger.exception("purging expired agent sessions failed")
        await asyncio.sleep(every_s)


async def watch_thresholds(config_file: Path, log: ThresholdLog) -> None:
    """Reload the thresholds whenever the config file changes; an invalid file is reported and ignored."""
    from watchfiles import awatch

    # Yielding on a quiet interval too tells that the watcher runs (a test waits for it before it edits the file).
    async for changes in awatch(config_file, debounce=200, recursive=False, yield_on_timeout=True, rust_timeout=500):
        log.watching.set()
        if not changes:
            continue
        try:
            fresh = await asyncio.to_thread(load_settings, config_file)
        except ConfigError as error:
            logger.error("config file changed but was not applied: %s", error)
            log.reject()
            continue
        made = await asyncio.to_thread(
            log.apply, f"file:{config_file}", fresh.detectors, fresh.shadow_detectors, fresh.shadow_detectors is None
        )
        for change in made:
            logger.info("thresholds reloaded from %s (%s)", config_file, change["target"])


def _serve_file(path: Path) -> Callable[[], Awaitable[Response]]:
    async def serve() -> Response:
        return FileResponse(path)  # the media type follows the file's extension

    return serve


def _add_error_handlers(app: FastAPI) -> None:
    """The web layer is the only place that turns our exceptions into HTTP statuses. The caller's mistakes get 4xx
    with the message; anything else is the service's own failure: 500, with an id that finds it in the log."""
    statuses: dict[type[Exception], int] = {
        TicketNotFound: 404,
        AgentNotFound: 404,
        ConversationNotFound: 404,
        TicketConflict: 409,
        IllegalTransition: 409,
        LoginFailed: 401,
        NotAllowed: 403,
        InvalidRequest: 422,
    }
    for error_type, code in statuses.items():
        app.add_exception_handler(error_type, _handler(code))
    app.add_exception_handler(Exception, _unexpected)


def _handler(code: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(_request: Request, error: Exception) -> Response:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return handle


async def _unexpected(request: Request, error: Exception) -> Response:
    incident = uuid.uuid4().hex[:12]
    logger.error("unexpected error %s on %s %s", incident, request.method, request.url.path, exc_info=error)
    return JSONResponse({"detail": f"internal error; reference {incident}"}, status_code=500)
