"""The agents' websocket, /ws/agent: live queue, offers, and the chats an agent holds or watches."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, ValidationError

from agent_console.api import session_topic
from agent_console.auth import session_token
from agent_console.context import console
from agent_console.origins import origin_allowed
from handoff.agents import Agent
from handoff.relay import EventRelay, conversation_topic
from handoff.service import AGENTS_TOPIC, SUPERVISORS_TOPIC, HandoffService, agent_topic

CLOSE_UNAUTHENTICATED = 4401
SESSION_CHECK_S = 30.0

router = APIRouter()


class ClientFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    ticket_id: int | None = None


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    # The console is same-origin only: a page elsewhere must not ride on an agent's cookie.
    if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host", "")):
        await websocket.close(code=1008)
        return
    context = console(websocket)
    token = session_token(websocket)
    agent = await asyncio.to_thread(context.agents.authenticate, token)
    if agent is None or token is None:
        await websocket.close(code=CLOSE_UNAUTHENTICATED)
        return
    await websocket.accept()
    connection = AgentConnection(websocket, agent, token, context.handoff, context.relay)
    try:
        await connection.serve()
    except WebSocketDisconnect:
        pass
    finally:
        await connection.stop()


class AgentConnection:
    """Fans the agent's topics into one writer; subscribes to a chat's topic when the agent holds or watches it."""

    def __init__(
        self, websocket: WebSocket, agent: Agent, token: str, service: HandoffService, relay: EventRelay
    ) -> None:
        self.websocket = websocket
        self.agent = agent
        self.token = token
        self.service = service
        self.relay = relay
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.watching: dict[str, asyncio.Task[None]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def serve(self) -> None:
        self.tasks.append(asyncio.create_task(self._write()))
        topics = [AGENTS_TOPIC, agent_topic(self.agent.id), session_topic(self.token)]
        if self.agent.is_supervisor:
            topics.append(SUPERVISORS_TOPIC)
        ready = [asyncio.Event() for _ in topics]
        for topic, event in zip(topics, ready, strict=False):
            self.tasks.append(asyncio.create_task(self._follow(topic, event)))
        await asyncio.gather(*(event.wait() for event in ready))
        for ticket in await asyncio.to_thread(self.service.tickets.with_status, "assigned", agent=self.agent.id):
            await self._watch(ticket.conversation_id, ticket.id)
        self.tasks.append(asyncio.create_task(self._check_session()))
        await self.outbox.put({"type": "hello", "agent": self.agent.public()})
        while True:
            raw = await self.websocket.receive_text()
            await self._handle(raw)

    async def stop(self) -> None:
        for task in [*self.tasks, *self.watching.values()]:
            task.cancel()
        await asyncio.gather(*self.tasks, *self.watching.values(), return_exceptions=True)

    async def _handle(self, raw: str) -> None:
        try:
            frame = ClientFrame.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            await self.outbox.put({"type": "error", "code": "invalid_frame", "message": "Expected {type, ticket_id}."})
            return
        if frame.ticket_id is None:
            await self.outbox.put({"type": "error", "code": "invalid_frame", "message": "ticket_id is required."})
            return
        try:
            ticket = await asyncio.to_thread(self.service.tickets.get, frame.ticket_id)
        except LookupError as error:
            await self.outbox.put({"type": "error", "code": "not_found", "message": str(error)})
            return
        if frame.type == "watch":
            # Agents follow their own chats; supervisors may watch any chat, read-only.
            if ticket.assigned_agent == self.agent.id or self.agent.is_supervisor:
                await self._watch(ticket.conversation_id, ticket.id)
            else:
                await self.outbox.put(
                    {"type": "error", "code": "forbidden", "message": "Only supervisors watch others' chats."}
                )
        elif frame.type == "typing":
            if ticket.assigned_agent == self.agent.id:
                await self.service.typing(ticket.id, self.agent)
        else:
            await self.outbox.put(
                {"type": "error", "code": "unknown_type", "message": f"Unknown frame type {frame.type!r}."}
            )

    async def _watch(self, conversation_id: str, ticket_id: int) -> None:
        if conversation_id in self.watching:
            return
        ready = asyncio.Event()
        self.watching[conversation_id] = asyncio.create_task(
            self._follow(
                conversation_topic(conversation_id), ready, {"ticket_id": ticket_id, "conversation_id": conversation_id}
            )
        )
        await ready.wait()

    async def _follow(self, topic: str, ready: asyncio.Event, wrap: dict[str, Any] | None = None) -> None:
        async with self.relay.subscribe(topic) as events:
            ready.set()
            while True:
                event = await events.get()
                if event.get("type") == "logged_out":
                    await self.websocket.close(code=CLOSE_UNAUTHENTICATED, reason="logged out")
                    return
                if event.get("type") == "typing" and event.get("sender") == "agent":
                    continue  # our own side's typing
                if wrap is not None:
                    await self.outbox.put({"type": "chat_event", **wrap, "event": _public(event)})
                    continue
                await self.outbox.put(_public(event))
                await self._follow_new_chat(event)

    async def _follow_new_chat(self, event: dict[str, Any]) -> None:
        ticket = event.get("ticket") or {}
        if ticket.get("assigned_agent") == self.agent.id and ticket.get("status") == "assigned":
            await self._watch(ticket["conversation_id"], ticket["id"])

    async def _check_session(self) -> None:
        """Close the socket once the session has expired or was ended elsewhere."""
        while True:
            await asyncio.sleep(SESSION_CHECK_S)
            if await asyncio.to_thread(console(self.websocket).agents.authenticate, self.token) is None:
                with contextlib.suppress(RuntimeError):
                    await self.websocket.close(code=CLOSE_UNAUTHENTICATED, reason="session expired")
                return

    async def _write(self) -> None:
        while True:
            await self.websocket.send_text(json.dumps(await self.outbox.get()))


def _public(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if not k.startswith("_")}
