"""The conversation record: conversations, their messages with gap-free sequence numbers, and owner changes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from handoff.database import affected_rows, open_engine, reading_engine
from handoff.ownership import IllegalTransition, Owner, transition
from handoff.records import Base, ConversationRow, MessageRow, StateChangeRow, utcnow


class ConversationNotFound(LookupError):
    """No conversation has that id."""


class BotMayNotSpeak(RuntimeError):
    """The bot tried to send a message while it does not own the conversation."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    conversation_id: str
    seq: int
    sender: str
    text: str
    created_at: datetime
    client_msg_id: str | None = None
    author: str | None = None
    analysis: dict[str, Any] | None = field(default=None, repr=False)

    def to_frame(self) -> dict[str, Any]:
        """The message as the customer protocol sends it."""
        frame: dict[str, Any] = {
            "type": "message",
            "seq": self.seq,
            "sender": self.sender,
            "text": self.text,
            "ts": self.created_at.isoformat(),
        }
        if self.author:
            frame["author"] = self.author
        if self.client_msg_id:
            frame["client_msg_id"] = self.client_msg_id
        return frame


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    id: str
    state: Owner
    last_seq: int
    customer: dict[str, Any]
    created_at: datetime
    state_reason: str = ""
    state_changed_at: datetime | None = None
    agent_name: str | None = None


@dataclass(frozen=True, slots=True)
class MessageScores:
    """A customer message's scores, stored in the same transaction as whatever its turn did (a reply, a ticket):
    a message without them is a turn that never finished, and is answered again after a crash (`unanswered`)."""

    conversation_id: str
    seq: int
    record: dict[str, Any]

    def store_in(self, store: ConversationStore, session: Session) -> None:
        store.record_analysis(session, self.conversation_id, self.seq, self.record)

    def on(self, message: StoredMessage) -> StoredMessage:
        """`message` as it will read once these scores are stored."""
        if (message.conversation_id, message.seq) != (self.conversation_id, self.seq):
            return message
        return replace(message, analysis=self.record)


# The tables themselves, for the Core statements of the chat path.
MESSAGES = Base.metadata.tables[MessageRow.__tablename__]
CONVERSATIONS = Base.metadata.tables[ConversationRow.__tablename__]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewConversation:
    """A conversation handed out at hello but stored only at the customer's first message: a visitor who opens the
    widget and says nothing costs no row and no commit."""

    id: str
    token_hash: str
    customer: dict[str, Any]
    created_at: datetime

    @classmethod
    def plan(cls, customer: dict[str, Any] | None = None) -> tuple[NewConversation, str]:
        """A new conversation and its secret resume token (only the token's hash is kept)."""
        token = secrets.token_urlsafe(24)
        return cls(uuid.uuid4().hex, hash_token(token), dict(customer or {}), utcnow()), token

    def info(self) -> ConversationInfo:
        return ConversationInfo(self.id, Owner.BOT, 0, self.customer, self.created_at)


class ConversationStore:
    """Synchronous store; the web layer calls it from worker threads."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        self.engine = open_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = sessionmaker(reading_engine(self.engine), expire_on_commit=False)

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)
        # create_all adds no index to a table that already exists; a database from before an index needs it too.
        for index in MESSAGES.indexes:
            index.create(self.engine, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    def reading(self) -> Session:
        """A session for reads only: it never waits for the writer's commit, nor holds it up."""
        return self._reads()

    def session(self) -> Session:
        return self._sessions()

    # Conversations

    def start(self, customer: dict[str, Any] | None = None) -> tuple[ConversationInfo, str]:
        """Open a new conversation owned by the bot and store it now; return it with its secret resume token."""
        new, token = NewConversation.plan(customer)
        with self.session() as session, session.begin():
            return self.create(session, new), token

    def create(self, session: Session, new: NewConversation, greeting: str = "") -> ConversationInfo:
        """Store a planned conversation, with the bot's greeting as its first message, in the caller's transaction."""
        row = ConversationRow(
            id=new.id, resume_token_hash=new.token_hash, state=Owner.BOT.value, customer=new.customer,
            created_at=new.created_at, state_changed_at=new.created_at,
        )  # fmt: skip
        session.add(row)
        session.flush()
        if greeting:  # dated when it was shown, at hello
            self.append(session, new.id, "bot", greeting, created_at=new.created_at)
        return _info(row)

    def resume(self, conversation_id: str, token: str | None) -> ConversationInfo | None:
        """The conversation, if `token` is its resume token; None otherwise (never another's transcript)."""
        if not token:
            return None
        with self.reading() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None or not hmac.compare_digest(row.resume_token_hash, hash_token(token)):
                return None
            return _info(row)

    def get(self, conversation_id: str) -> ConversationInfo:
        with self.reading() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                raise ConversationNotFound(f"no conversation {conversation_id!r}")
            return _info(row)

    def update_customer(self, conversation_id: str, customer: dict[str, Any]) -> None:
        """Merge identity and page details sent by the widget into the conversation."""
        with self.session() as session, session.begin():
            self.update_customer_in(session, conversation_id, customer)

    @staticmethod
    def update_customer_in(session: Session, conversation_id: str, customer: dict[str, Any]) -> None:
        """update_customer in the caller's transaction."""
        row = session.get(ConversationRow, conversation_id)
        if row is None:
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        row.customer = {**row.customer, **customer}

    # Messages

    def add_customer_message(self, conversation_id: str, client_msg_id: str, text: str) -> tuple[StoredMessage, bool]:
        """Store a customer message once per client_msg_id; return it and whether it is new."""
        with self.session() as session, session.begin():
            return self.append_customer(session, conversation_id, client_msg_id, text)

    def append_customer(
        self, session: Session, conversation_id: str, client_msg_id: str, text: str
    ) -> tuple[StoredMessage, bool]:
        """add_customer_message in the caller's transaction: (the message, whether it is new)."""
        # A retry is found by its client_msg_id first; the UNIQUE constraint stays the last word for a racing writer
        # in another process (its IntegrityError fails the caller's transaction, and the retry then finds the row).
        row = session.scalars(
            select(MessageRow).where(
                MessageRow.conversation_id == conversation_id, MessageRow.client_msg_id == client_msg_id
            )
        ).one_or_none()
        if row is not None:
            return _message(row), False
        return self.append(session, conversation_id, "customer", text, client_msg_id=client_msg_id), True

    def add_message(
        self,
        conversation_id: str,
        sender: str,
        text: str,
        author: str | None = None,
        analysis: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """Store a bot, agent or system message. A bot message is refused unless the bot owns the chat."""
        with self.session() as session, session.begin():
            return self.append(session, conversation_id, sender, text, author=author, analysis=analysis)

    def set_analysis(self, conversation_id: str, seq: int, analysis: dict[str, Any]) -> None:
        """Attach the detectors' scores (or the bot's intent) to a stored message."""
        with self.session() as session, session.begin():
            self.record_analysis(session, conversation_id, seq, analysis)

    def record_analysis(self, session: Session, conversation_id: str, seq: int, analysis: dict[str, Any]) -> None:
        """set_analysis in the caller's transaction: the turn's outcome commits together with its scores."""
        session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.conversation_id == conversation_id, MESSAGES.c.seq == seq)
            .values(analysis=analysis)
        )

    def unanswered(self) -> list[StoredMessage]:
        """Customer messages whose turn never finished (no scores stored), oldest first per conversation: after a
        crash these were acknowledged but not answered."""
        with self.reading() as session:
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.sender == "customer", MessageRow.analysis.is_(None))
                .order_by(MessageRow.id)
            )
            return [_message(row) for row in rows]

    def messages_after(self, conversation_id: str, seq: int = 0) -> list[StoredMessage]:
        """Every message with a sequence number above `seq`, in order."""
        with self.reading() as session:
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id, MessageRow.seq > seq)
                .order_by(MessageRow.seq)
            )
            return [_message(row) for row in rows]

    def append(self, session: Session, conversation_id: str, sender: str, text: str, **extra: Any) -> StoredMessage:
        """Store one message in the caller's transaction; a bot message only while the bot owns the conversation.

        A refused bot message changes nothing (the compare-and-set matched no row), so the caller's transaction
        stays usable without a savepoint."""
        # Taking the next seq and inserting happen in one transaction: a failed insert gives the number back.
        # Core statements on the tables: the ORM's bulk-update machinery costs more than the statements themselves.
        bump = (
            update(CONVERSATIONS)
            .where(CONVERSATIONS.c.id == conversation_id)
            .values(last_seq=CONVERSATIONS.c.last_seq + 1)
            .returning(CONVERSATIONS.c.last_seq)
        )
        if sender == "bot":
            bump = bump.where(CONVERSATIONS.c.state == Owner.BOT.value)
        result = session.execute(bump).one_or_none()
        if result is None:
            if sender == "bot" and session.get(ConversationRow, conversation_id) is not None:
                raise BotMayNotSpeak(f"the bot does not own conversation {conversation_id!r}")
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        # A Core insert: the ORM's unit of work costs more than the statement on the chat path.
        created_at = extra.pop("created_at", None) or utcnow()
        message = StoredMessage(conversation_id, result.last_seq, sender, text, created_at, **extra)
        session.execute(insert(MESSAGES).values(_row_values(message)))
        return message

    # Ownership

    def change_owner(
        self,
        conversation_id: str,
        target: Owner,
        reason: str = "",
        actor: str = "system",
        expected: Owner | None = None,
        agent_name: str | None = None,
    ) -> tuple[Owner, Owner]:
        """Move the conversation to `target` through the state machine; return (old, new).

        The write is a compare-and-set on the current state, so two racing changes cannot both win.
        `expected` additionally demands a particular current owner.
        """
        with self.session() as session, session.begin():
            return move_owner(session, conversation_id, target, reason, actor, expected, agent_name)

    def owner_history(self, conversation_id: str) -> list[tuple[str, str, str]]:
        """(from, to, reason) for every change of owner, oldest first."""
        with self.reading() as session:
            rows = session.scalars(
                select(StateChangeRow)
                .where(StateChangeRow.conversation_id == conversation_id)
                .order_by(StateChangeRow.id)
            )
            return [(r.from_state, r.to_state, r.reason) for r in rows]


def move_owner(
    session: Session,
    conversation_id: str,
    target: Owner,
    reason: str = "",
    actor: str = "system",
    expected: Owner | None = None,
    agent_name: str | None = None,
    count_handoff: bool = False,
) -> tuple[Owner, Owner]:
    """change_owner inside the caller's transaction, so a ticket and its owner change commit together."""
    row = session.get(ConversationRow, conversation_id)
    if row is None:
        raise ConversationNotFound(f"no conversation {conversation_id!r}")
    current = Owner(row.state)
    if expected is not None and current != expected:
        raise IllegalTransition(current, target)
    new = transition(current, target)
    values: dict[str, Any] = {
        "state": new.value,
        "state_reason": reason,
        "state_changed_at": utcnow(),
        "agent_name": agent_name if new == Owner.AGENT else None,
    }
    if count_handoff:
        values["handoffs"] = ConversationRow.handoffs + 1
    changed = affected_rows(
        session.execute(
            update(ConversationRow)
            .where(ConversationRow.id == conversation_id, ConversationRow.state == current.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise IllegalTransition(current, target)
    session.add(
        StateChangeRow(
            conversation_id=conversation_id, from_state=current.value, to_state=new.value, reason=reason, actor=actor
        )
    )
    session.expire(row)
    return current, new


def _info(row: ConversationRow) -> ConversationInfo:
    return ConversationInfo(
        id=row.id,
        state=Owner(row.state),
        last_seq=row.last_seq,
        customer=dict(row.customer or {}),
        created_at=_aware(row.created_at),
        state_reason=row.state_reason,
        state_changed_at=_aware(row.state_changed_at),
        agent_name=row.agent_name,
    )


def _row_values(message: StoredMessage) -> dict[str, Any]:
    """The message's columns for an insert. An absent analysis is left out, so the column is SQL NULL (which marks
    an unanswered customer message) and not the JSON `null` a None would store."""
    values = {
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender": message.sender,
        "text": message.text,
        "created_at": message.created_at,
        "client_msg_id": message.client_msg_id,
        "author": message.author,
    }
    if message.analysis is not None:
        values["analysis"] = message.analysis
    return values


def _message(row: MessageRow) -> StoredMessage:
    return StoredMessage(
        conversation_id=row.conversation_id,
        seq=row.seq,
        sender=row.sender,
        text=row.text,
        created_at=_aware(row.created_at),
        client_msg_id=row.client_msg_id,
        author=row.author,
        analysis=row.analysis,
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
