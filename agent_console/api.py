"""The agents' HTTP API (docs/agent-api.md). Every route but login needs a session."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from agent_console.auth import (
    SESSION_COOKIE,
    current_admin,
    current_agent,
    current_supervisor,
    directory,
    session_token,
)
from agent_console.context import console
from handoff.agents import Agent, LoginFailed
from handoff.config import AgentConfig
from handoff.records import utcnow
from handoff.routing import queue_order
from handoff.service import HandoffService
from handoff.store import hash_token
from handoff.tickets import TicketInfo

router = APIRouter(prefix="/api/agent", tags=["agents"])

CurrentAgent = Annotated[Agent, Depends(current_agent)]
Supervisor = Annotated[Agent, Depends(current_supervisor)]
Admin = Annotated[Agent, Depends(current_admin)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class StatusChange(_Body):
    status: Literal["online", "away", "offline"]


class Text(_Body):
    text: str = Field(min_length=1, max_length=4000)


class Transfer(_Body):
    to: Literal["agent", "team", "supervisor"]
    target: str | None = Field(default=None, max_length=64, description="the agent's id or the team's name")
    note: str = Field(default="", max_length=2000)


class Verdict(_Body):
    needed: bool
    comment: str | None = Field(default=None, max_length=2000)


class Comment(_Body):
    comment: str | None = Field(default=None, max_length=2000)


class NewAgent(AgentConfig):
    password: str = Field(min_length=8, max_length=256)


def handoff(request: Request) -> HandoffService:
    return console(request).handoff


Service = Annotated[HandoffService, Depends(handoff)]


# Sessions


@router.post("/login")
def login(body: Login, request: Request, response: Response) -> dict[str, Any]:
    """Start a session. The console gets an HttpOnly cookie; API clients use the returned token as a bearer token."""
    try:
        agent, token, expires = directory(request).login(body.username, body.password)
    except LoginFailed as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(error)) from None
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        expires=expires,
        path="/",
    )
    return {"agent": agent.public(), "token": token, "expires_at": expires.isoformat()}


@router.post("/logout")
async def logout(request: Request, response: Response, agent: CurrentAgent) -> dict[str, str]:
    """End the session and close every socket opened with it."""
    token = session_token(request)
    if token:
        await asyncio.to_thread(directory(request).logout, token)
        await console(request).relay.publish(session_topic(token), {"type": "logged_out"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"status": "logged out"}


def session_topic(token: str) -> str:
    return "session:" + hash_token(token)


@router.get("/me")
def me(agent: CurrentAgent) -> dict[str, Any]:
    return agent.public()


@router.put("/status")
async def set_status(body: StatusChange, request: Request, agent: CurrentAgent, service: Service) -> dict[str, Any]:
    updated = await asyncio.to_thread(directory(request).set_status, agent.id, body.status)
    await console(request).relay.publish("agents", {"type": "agent_status", "agent": updated.public()})
    service.wake.set()
    return updated.public()


# The queue and the chats


@router.get("/queue")
async def queue(agent: CurrentAgent, service: Service) -> dict[str, Any]:
    """Waiting chats in queue order (urgent first, then longest waiting), and open offline tickets."""
    queued = await asyncio.to_thread(service.tickets.with_status, "queued")
    by_id = {t.id: t for t in queued}
    ordered = [by_id[w.ticket_id] for w in queue_order(t.waiting() for t in queued)]
    offline = [t for t in await asyncio.to_thread(service.tickets.with_status, "offline") if t.closed_at is None]
    return {
        "queued": [_listed(t, agent) for t in ordered],
        "offline": [_listed(t, agent) for t in offline],
    }


@router.get("/chats")
async def my_chats(agent: CurrentAgent, service: Service) -> list[dict[str, Any]]:
    held = await asyncio.to_thread(service.tickets.with_status, "assigned", agent=agent.id)
    return [_listed(t, agent) for t in held]


@router.get("/tickets/{ticket_id}")
async def ticket(ticket_id: int, agent: CurrentAgent, service: Service) -> dict[str, Any]:
    """The ticket, its handoff package, its events (notes, transfers, SLA), and the live transcript."""
    info = await asyncio.to_thread(service.tickets.get, ticket_id)
    events = await asyncio.to_thread(service.tickets.events, ticket_id)
    messages = await asyncio.to_thread(service.store.messages_after, info.conversation_id, 0)
    return {
        **info.summary(),
        "package": info.package,
        "events": events,
        "messages": [m.to_frame() for m in messages],
        "sla_remaining_s": _sla_remaining(info),
    }


@router.post("/tickets/{ticket_id}/accept")
async def accept(ticket_id: int, agent: CurrentAgent, service: Service) -> dict[str, Any]:
    """Take a waiting chat: an offer, or a pick from the queue. Of several agents accepting at once, one wins (409 for the rest)."""
    return (await service.accept(ticket_id, agent)).summary()


@router.post("/tickets/{ticket_id}/decline")
async def decline(ticket_id: int, agent: CurrentAgent, service: Service) -> dict[str, str]:
    await service.decline(ticket_id, agent)
    return {"status": "declined"}


@router.post("/tickets/{ticket_id}/messages")
async def reply(ticket_id: int, body: Text, agent: CurrentAgent, service: Service) -> dict[str, Any]:
    return (await service.reply(ticket_id, agent, body.text)).to_frame()


@router.post("/tickets/{ticket_id}/typing")
async def typing(ticket_id: int, agent: CurrentAgent, service: Service) -> dict[str, str]:
    await service.typing(ticket_id, agent)
    return {"status": "ok"}


@router.post("/tickets/{ticket_id}/notes")
async def note(ticket_id: int, body: Text, agent: CurrentAgent, service: Service) -> dict[str, str]:
    await service.note(ticket_id, agent, body.text)
    return {"status": "noted"}


@router.post("/tickets/{ticket_id}/transfer")
async def transfer(ticket_id: int, body: Transfer, agent: CurrentAgent, service: Service) -> dict[str, Any]:
    if body.to == "supervisor":
        info = await service.transfer_to_supervisor(ticket_id, agent, body.note)
    elif not body.target:
        raise HTTPException(422, f"a transfer to a {body.to} needs a target")  # Starlette renamed the 422 constant
    elif body.to == "agent":
        info = await service.transfer_to_agent(ticket_id, agent, body.target, body.note)
    else:
        info = await service.transfer_to_team(ticket_id, agent, body.target, body.note)
    return info.summary()


@router.post("/tickets/{ticket_id}/return")
async def return_to_bot(ticket_id: int, agent: CurrentAgent, service: Service) -> dict[str, Any]:
    return (await service.return_to_bot(ticket_id, agent)).summary()


@router.post("/tickets/{ticket_id}/resolve")
async def resolve(ticket_id: int, body: Verdict, agent: CurrentAgent, service: Service) -> dict[str, Any]:
    return (await service.resolve(ticket_id, agent, body.needed, body.comment)).summary()


@router.post("/tickets/{ticket_id}/close-offline")
async def close_offline(ticket_id: int, body: Comment, agent: CurrentAgent, service: Service) -> dict[str, Any]:
    return (await service.close_offline(ticket_id, agent, body.comment)).summary()


# People


@router.get("/agents")
async def agents(request: Request, agent: CurrentAgent, service: Service) -> list[dict[str, Any]]:
    """Everyone, with their load: transfer targets for agents, the team's state for supervisors."""
    everyone = await asyncio.to_thread(directory(request).all)
    loads = await asyncio.to_thread(directory(request).loads)
    return [{**a.public(), "load": loads.get(a.id, 0)} for a in everyone]


@router.post("/agents", status_code=status.HTTP_201_CREATED)
async def create_agent(body: NewAgent, request: Request, admin: Admin) -> dict[str, Any]:
    config = AgentConfig(**body.model_dump(exclude={"password"}))
    created = await asyncio.to_thread(directory(request).create, config, body.password)
    return created.public()


@router.get("/teams")
def teams(agent: CurrentAgent, service: Service) -> dict[str, list[str]]:
    return dict(service.teams)


@router.get("/supervisor/overview")
async def overview(request: Request, supervisor: Supervisor, service: Service) -> dict[str, Any]:
    """All live chats, queue lengths per team, each agent's load, and the SLAs at risk."""
    live = await asyncio.to_thread(service.tickets.with_status, "queued", "assigned")
    everyone = await asyncio.to_thread(directory(request).all)
    loads = await asyncio.to_thread(directory(request).loads)
    queue_lengths: dict[str, int] = {}
    for t in live:
        if t.status == "queued":
            queue_lengths[t.team] = queue_lengths.get(t.team, 0) + 1
    return {
        "chats": [_listed(t, supervisor) for t in live],
        "queue_lengths": queue_lengths,
        "agents": [{**a.public(), "load": loads.get(a.id, 0)} for a in everyone],
        "sla_at_risk": [_listed(t, supervisor) for t in live if t.sla_at_risk or t.sla_breached],
    }


def _listed(ticket: TicketInfo, agent: Agent) -> dict[str, Any]:
    package = ticket.package
    return {
        **ticket.summary(),
        "summary": package.get("summary", ""),
        "customer": package.get("customer", {}),
        "trigger_detector": (package.get("trigger") or {}).get("detector"),
        "for_my_team": ticket.team in agent.teams,
        "offered_to_me": ticket.offered_to == agent.id,
        "sla_remaining_s": _sla_remaining(ticket),
    }


def _sla_remaining(ticket: TicketInfo) -> float | None:
    if ticket.sla_due_at is None or ticket.first_response_at is not None:
        return None
    return round((ticket.sla_due_at - utcnow()).total_seconds(), 1)
