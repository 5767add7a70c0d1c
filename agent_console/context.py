"""What the console's routes are given: the services they use, as one typed object the app factory sets up."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from handoff.agents import AgentDirectory
from handoff.relay import EventRelay
from handoff.service import HandoffService
from handoff.store import ConversationStore
from handoff.threshold_log import ThresholdLog


@dataclass(frozen=True, slots=True)
class ConsoleContext:
    agents: AgentDirectory
    handoff: HandoffService
    relay: EventRelay
    store: ConversationStore
    threshold_log: ThresholdLog


def console(connection: HTTPConnection) -> ConsoleContext:
    """FastAPI dependency: the console's services (set as `app.state.console` by the app factory)."""
    context = getattr(connection.app.state, "console", None)
    if not isinstance(context, ConsoleContext):
        raise RuntimeError("the console's services are not set up: build the app with escalator.app.create_app")
    return context
