"""The conversation record's tables (SQLAlchemy 2): conversations, messages and ownership changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[float]: JSON, datetime: DateTime(timezone=True)}


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Only a hash of the resume token is kept: a leaked database does not let anyone resume a chat.
    resume_token_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Why and since when the current owner holds the chat: the queue orders by state_changed_at.
    state_reason: Mapped[str] = mapped_column(Text, default="")
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    agent_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    handoffs: Mapped[int] = mapped_column(Integer, default=0)  # how many times it went to people
    customer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


UNANSWERED = "sender = 'customer' AND analysis IS NULL"


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_seq"),
        # Idempotent retries: the database, not a read-then-write check, refuses a second copy.
        UniqueConstraint("conversation_id", "client_msg_id", name="uq_messages_client_msg_id"),
        # The turns a crash left unanswered, found at start-up without reading every message ever stored.
        Index("ix_messages_unanswered", "id", sqlite_where=sql(UNANSWERED), postgresql_where=sql(UNANSWERED)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    client_msg_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sender: Mapped[str] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the agent's display name
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Detector scores and the bot's intent for this turn, so any past conversation can be explained.
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class StateChangeRow(Base):
    __tablename__ = "state_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the login name
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent, supervisor or admin
    teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="offline")  # online, away or offline
    max_chats: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSessionRow(Base):
    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketRow(Base):
    """One handoff of one conversation to people; a conversation handed over twice has two tickets."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Exactly one ticket per handoff, however many detectors fire or requests are retried.
        UniqueConstraint("conversation_id", "handoff_no", name="uq_tickets_handoff"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    handoff_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued, assigned, returned, resolved, offline
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    team: Mapped[str] = mapped_column(String(64), default="general")
    trigger: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    package: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assigned_agent: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    offered_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
    offered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    declined_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sla_at_risk: Mapped[bool] = mapped_column(default=False)
    sla_breached: Mapped[bool] = mapped_column(default=False)
    needed: Mapped[bool | None] = mapped_column(nullable=True)  # the agent's verdict: was the handoff needed?
    verdict_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    contact_message: Mapped[str | None] = mapped_column(Text, nullable=True)


class TicketEventRow(Base):
    """What happened to a ticket: offers, transfers, internal notes, SLA warnings and breaches, the verdict."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128), default="system")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankEntryRow(Base):
    """A conversation an agent confirmed needed a person; it joins the pattern-similarity bank at every start."""

    __tablename__ = "bank_entries"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    vector: Mapped[list[float]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThresholdChangeRow(Base):
    """Who changed the live thresholds, when, and from what to what."""

    __tablename__ = "threshold_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(16))  # "active" or "shadow"
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
