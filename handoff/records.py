"""The conversation record's tables (SQLAlchemy 2): conversations, messages and ownership changes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


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
    customer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_seq"),
        # Idempotent retries: the database, not a read-then-write check, refuses a second copy.
        UniqueConstraint("conversation_id", "client_msg_id", name="uq_messages_client_msg_id"),
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
