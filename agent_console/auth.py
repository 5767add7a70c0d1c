"""Who is calling: agent sessions from a cookie (the console) or a bearer token (API clients)."""

from __future__ import annotations

from fastapi import HTTPException, Request, WebSocket, status

from agent_console.context import console
from handoff.agents import Agent, AgentDirectory

SESSION_COOKIE = "escalator_session"


def session_token(connection: Request | WebSocket) -> str | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return connection.cookies.get(SESSION_COOKIE)


def directory(connection: Request | WebSocket) -> AgentDirectory:
    return console(connection).agents


def current_agent(request: Request) -> Agent:
    """FastAPI dependency: the logged-in agent, or 401."""
    agent = directory(request).authenticate(session_token(request))
    if agent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first", headers={"WWW-Authenticate": "Bearer"})
    return agent


def current_supervisor(request: Request) -> Agent:
    agent = current_agent(request)
    if not agent.is_supervisor:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only supervisors may do this")
    return agent


def current_admin(request: Request) -> Agent:
    agent = current_agent(request)
    if agent.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins may do this")
    return agent
