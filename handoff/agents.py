"""Agents: accounts with argon2-hashed passwords, login sessions, teams, skills, status and capacity."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from handoff.config import AgentConfig
from handoff.database import affected_rows
from handoff.errors import InvalidRequest
from handoff.records import AgentRow, AgentSessionRow, TicketRow, utcnow
from handoff.store import ConversationStore, hash_token

STATUSES = ("online", "away", "offline")
ROLES = ("agent", "supervisor", "admin")


class AgentNotFound(LookupError):
    """No agent has that id."""


class LoginFailed(ValueError):
    """Wrong name or password (deliberately not saying which)."""


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    display_name: str
    role: str
    teams: tuple[str, ...]
    skills: tuple[str, ...]
    status: str
    max_chats: int

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "role": self.role,
            "teams": list(self.teams),
            "skills": list(self.skills),
            "status": self.status,
            "max_chats": self.max_chats,
        }


def _agent(row: AgentRow) -> Agent:
    return Agent(
        row.id, row.display_name, row.role, tuple(row.teams or ()), tuple(row.skills or ()), row.status, row.max_chats
    )


class AgentDirectory:
    def __init__(self, store: ConversationStore, session_hours: float = 12.0, password_memory_kib: int = 65536) -> None:
        self.store = store
        self.session_hours = session_hours
        self._hasher = PasswordHasher(memory_cost=password_memory_kib)

    # Accounts

    def upsert(self, config: AgentConfig) -> Agent:
        """Create or update an agent from the config file, keeping its password and status."""
        with self.store.session() as session, session.begin():
            row = session.get(AgentRow, config.id) or AgentRow(id=config.id, status="offline")
            row.display_name, row.role = config.display_name, config.role
            row.teams, row.skills, row.max_chats = list(config.teams), list(config.skills), config.max_chats
            session.add(row)
            session.flush()
            return _agent(row)

    def create(self, config: AgentConfig, password: str) -> Agent:
        agent = self.upsert(config)
        self.set_password(agent.id, password)
        return agent

    def set_password(self, agent_id: str, password: str) -> None:
        if len(password) < 8:
            raise InvalidRequest("a password needs at least 8 characters")
        with self.store.session() as session, session.begin():
            row = self._row(session, agent_id)
            row.password_hash = self._hasher.hash(password)

    def ensure_admin(self, password: str | None) -> str | None:
        """Create the first admin if there is no agent at all; return its password when we made one up."""
        with self.store.reading() as session:
            if session.scalar(select(func.count()).select_from(AgentRow).where(AgentRow.role == "admin")):
                return None
        generated = None
        if not password:
            password = generated = secrets.token_urlsafe(12)
        self.create(AgentConfig(id="admin", display_name="Admin", role="admin", teams=[], max_chats=5), password)
        return generated

    def get(self, agent_id: str) -> Agent:
        with self.store.reading() as session:
            return _agent(self._row(session, agent_id))

    def all(self) -> list[Agent]:
        with self.store.reading() as session:
            return [_agent(row) for row in session.scalars(select(AgentRow).order_by(AgentRow.id))]

    def set_status(self, agent_id: str, status: str) -> Agent:
        if status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}")
        with self.store.session() as session, session.begin():
            row = self._row(session, agent_id)
            row.status = status
            return _agent(row)

    def loads(self, agent_ids: Iterable[str] | None = None) -> dict[str, int]:
        """How many chats each agent holds right now."""
        with self.store.reading() as session:
            query = (
                select(TicketRow.assigned_agent, func.count())
                .where(TicketRow.status == "assigned")
                .group_by(TicketRow.assigned_agent)
            )
            counts = {agent: n for agent, n in session.execute(query) if agent}
        if agent_ids is None:
            return counts
        return {agent_id: counts.get(agent_id, 0) for agent_id in agent_ids}

    # Sessions

    def login(self, agent_id: str, password: str) -> tuple[Agent, str, datetime]:
        """Check the password; return the agent, a new session token and its expiry."""
        with self.store.reading() as session:
            row = session.get(AgentRow, agent_id)
            stored = row.password_hash if row else None
        try:
            if stored is None:
                # Spend the same time as a real check, so a missing account is not revealed by timing.
                self._hasher.verify(self._dummy_hash, password + "x")
            else:
                self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            raise LoginFailed("wrong name or password") from None
        token = secrets.token_urlsafe(32)
        expires = utcnow() + timedelta(hours=self.session_hours)
        with self.store.session() as session, session.begin():
            session.add(AgentSessionRow(token_hash=hash_token(token), agent_id=agent_id, expires_at=expires))
        return self.get(agent_id), token, expires

    def authenticate(self, token: str | None) -> Agent | None:
        """The agent behind a session token, if the session exists and has not expired."""
        if not token:
            return None
        with self.store.reading() as session:
            row = session.get(AgentSessionRow, hash_token(token))
            if row is None:
                return None
            expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
            if expires <= utcnow():
                return None
            return _agent(self._row(session, row.agent_id))

    def logout(self, token: str) -> str | None:
        """End a session; return the agent it belonged to."""
        with self.store.session() as session, session.begin():
            row = session.get(AgentSessionRow, hash_token(token))
            if row is None:
                return None
            agent_id = row.agent_id
            session.delete(row)
            return agent_id

    def purge_expired_sessions(self) -> int:
        with self.store.session() as session, session.begin():
            return affected_rows(session.execute(delete(AgentSessionRow).where(AgentSessionRow.expires_at <= utcnow())))

    @cached_property
    def _dummy_hash(self) -> str:
        """A hash to check passwords of unknown accounts against, so that they take as long as real ones."""
        return self._hasher.hash("not a real password")

    @staticmethod
    def _row(session: Session, agent_id: str) -> AgentRow:
        row = session.get(AgentRow, agent_id)
        if row is None:
            raise AgentNotFound(f"no agent {agent_id!r}")
        return row
