"""Tickets: one per handoff. Every change that races (open, accept) is a compare-and-set in one transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff.database import affected_rows
from handoff.ownership import IllegalTransition, Owner
from handoff.records import ConversationRow, TicketEventRow, TicketRow, utcnow
from handoff.routing import Waiting
from handoff.store import ConversationStore, _aware, move_owner

OPEN_STATUSES = ("queued", "assigned")


class TicketNotFound(LookupError):
    """No ticket has that id."""


class TicketConflict(RuntimeError):
    """The ticket is not in a state that allows this (taken by someone else, already closed, ...)."""


@dataclass(frozen=True, slots=True)
class TicketInfo:
    id: int
    conversation_id: str
    handoff_no: int
    status: str
    priority: str
    team: str
    trigger: str | None
    reason: str
    package: dict[str, Any]
    assigned_agent: str | None
    offered_to: str | None
    offered_at: datetime | None
    declined_by: tuple[str, ...]
    queued_at: datetime
    assigned_at: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    sla_due_at: datetime | None
    sla_at_risk: bool
    sla_breached: bool
    needed: bool | None
    verdict_comment: str | None
    contact_email: str | None
    contact_message: str | None

    def waiting(self) -> Waiting:
        skills = tuple(self.package.get("required_skills", ()))
        return Waiting(self.id, self.priority, self.team, self.queued_at, self.declined_by, skills)

    def summary(self) -> dict[str, Any]:
        """The ticket without its package, for lists."""
        data = asdict(self)
        data.pop("package")
        data["declined_by"] = list(self.declined_by)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


def _ticket(row: TicketRow) -> TicketInfo:
    def moment(value: datetime | None) -> datetime | None:
        return _aware(value) if value is not None else None

    return TicketInfo(
        id=row.id,
        conversation_id=row.conversation_id,
        handoff_no=row.handoff_no,
        status=row.status,
        priority=row.priority,
        team=row.team,
        trigger=row.trigger,
        reason=row.reason,
        package=dict(row.package or {}),
        assigned_agent=row.assigned_agent,
        offered_to=row.offered_to,
        offered_at=moment(row.offered_at),
        declined_by=tuple(row.declined_by or ()),
        queued_at=_aware(row.queued_at),
        assigned_at=moment(row.assigned_at),
        first_response_at=moment(row.first_response_at),
        closed_at=moment(row.closed_at),
        sla_due_at=moment(row.sla_due_at),
        sla_at_risk=row.sla_at_risk,
        sla_breached=row.sla_breached,
        needed=row.needed,
        verdict_comment=row.verdict_comment,
        contact_email=row.contact_email,
        contact_message=row.contact_message,
    )


@dataclass(frozen=True, slots=True)
class NewTicket:
    """Everything decided about a handoff before it is stored."""

    conversation_id: str
    priority: str
    team: str
    trigger: str | None
    reason: str
    package: dict[str, Any]
    sla_s: float
    offline: bool = False


class Tickets:
    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    # Opening

    def open(self, new: NewTicket) -> tuple[TicketInfo, bool]:
        """Open the ticket for this handoff, or return the one already open; (ticket, created)."""
        with self.store.session() as session, session.begin():
            return self.open_in(session, new)

    def open_in(self, session: Session, new: NewTicket) -> tuple[TicketInfo, bool]:
        """`open` in the caller's transaction, so that what the turn did commits together with its ticket.

        Exactly one ticket per handoff: the owner change bot -> queued is a compare-and-set, and the
        UNIQUE (conversation_id, handoff_no) constraint refuses a second ticket for the same handoff.
        """
        try:
            with session.begin_nested():
                if new.offline:
                    existing = self._open_offline(session, new.conversation_id)
                    if existing is not None:
                        return _ticket(existing), False
                    session.execute(
                        update(ConversationRow)
                        .where(ConversationRow.id == new.conversation_id)
                        .values(handoffs=ConversationRow.handoffs + 1)
                    )
                else:
                    move_owner(
                        session,
                        new.conversation_id,
                        Owner.QUEUED,
                        new.reason,
                        f"detector:{new.trigger}",
                        expected=Owner.BOT,
                        count_handoff=True,
                    )
                handoff_no = session.scalar(
                    select(ConversationRow.handoffs).where(ConversationRow.id == new.conversation_id)
                )
                now = utcnow()
                row = TicketRow(
                    conversation_id=new.conversation_id,
                    handoff_no=handoff_no,
                    status="offline" if new.offline else "queued",
                    priority=new.priority,
                    team=new.team,
                    trigger=new.trigger,
                    reason=new.reason,
                    package=new.package,
                    queued_at=now,
                    sla_due_at=None if new.offline else now + timedelta(seconds=new.sla_s),
                    declined_by=[],
                )
                session.add(row)
                session.flush()
                session.add(
                    TicketEventRow(
                        ticket_id=row.id,
                        kind="opened",
                        actor=f"detector:{new.trigger}",
                        data={"reason": new.reason, "priority": new.priority, "team": new.team},
                    )
                )
                return _ticket(row), True
        except (IllegalTransition, IntegrityError):
            # Someone else opened it first (a concurrent detector, or a retry): hand back theirs.
            theirs = self._live(session, new.conversation_id)
            if theirs is None:
                raise
            return _ticket(theirs), False

    @staticmethod
    def _open_offline(session: Session, conversation_id: str) -> TicketRow | None:
        return session.scalars(
            select(TicketRow).where(
                TicketRow.conversation_id == conversation_id,
                TicketRow.status == "offline",
                TicketRow.closed_at.is_(None),
            )
        ).first()

    # Reading

    def get(self, ticket_id: int) -> TicketInfo:
        with self.store.reading() as session:
            row = session.get(TicketRow, ticket_id)
            if row is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            return _ticket(row)

    def open_for_conversation(self, conversation_id: str) -> TicketInfo | None:
        """The conversation's live ticket (queued or assigned), else its open offline ticket."""
        with self.store.reading() as session:
            row = self._live(session, conversation_id)
            return _ticket(row) if row is not None else None

    @staticmethod
    def _live(session: Session, conversation_id: str) -> TicketRow | None:
        return session.scalars(
            select(TicketRow)
            .where(TicketRow.conversation_id == conversation_id, TicketRow.closed_at.is_(None))
            .order_by(TicketRow.handoff_no.desc())
        ).first()

    def with_status(self, *statuses: str, agent: str | None = None) -> list[TicketInfo]:
        with self.store.reading() as session:
            query = select(TicketRow).where(TicketRow.status.in_(statuses)).order_by(TicketRow.queued_at, TicketRow.id)
            if agent is not None:
                query = query.where(TicketRow.assigned_agent == agent)
            return [_ticket(row) for row in session.scalars(query)]

    def for_conversation(self, conversation_id: str) -> list[TicketInfo]:
        with self.store.reading() as session:
            query = select(TicketRow).where(TicketRow.conversation_id == conversation_id).order_by(TicketRow.handoff_no)
            return [_ticket(row) for row in session.scalars(query)]

    def events(self, ticket_id: int) -> list[dict[str, Any]]:
        with self.store.reading() as session:
            rows = session.scalars(
                select(TicketEventRow).where(TicketEventRow.ticket_id == ticket_id).order_by(TicketEventRow.id)
            )
            return [
                {"kind": r.kind, "actor": r.actor, "data": r.data, "at": _aware(r.created_at).isoformat()} for r in rows
            ]

    def recent_handle_seconds(self, limit: int = 20) -> list[float]:
        """How long the last chats took from acceptance to their end, newest first."""
        with self.store.reading() as session:
            rows = session.execute(
                select(TicketRow.assigned_at, TicketRow.closed_at)
                .where(TicketRow.status.in_(("resolved", "returned")), TicketRow.assigned_at.is_not(None))
                .order_by(TicketRow.closed_at.desc())
                .limit(limit)
            ).all()
        # The query leaves out unassigned tickets; testing `assigned` again only tells the type checker so.
        return [(_aware(closed) - _aware(assigned)).total_seconds() for assigned, closed in rows if closed and assigned]

    # Offers and acceptance

    def offer(self, ticket_id: int, agent_id: str) -> bool:
        """Offer a queued ticket to an agent; False if it is no longer queued."""
        with self.store.session() as session, session.begin():
            changed = affected_rows(
                session.execute(
                    update(TicketRow)
                    .where(TicketRow.id == ticket_id, TicketRow.status == "queued")
                    .values(offered_to=agent_id, offered_at=utcnow())
                )
            )
            if changed:
                session.add(
                    TicketEventRow(ticket_id=ticket_id, kind="offered", actor="router", data={"agent": agent_id})
                )
            return bool(changed)

    def withdraw_offer(self, ticket_id: int, agent_id: str, kind: str = "declined") -> None:
        """The agent declined or let the offer expire: never offer this ticket to them again."""
        with self.store.session() as session, session.begin():
            row = session.get(TicketRow, ticket_id)
            if row is None or row.status != "queued" or row.offered_to != agent_id:
                return
            row.declined_by = [*(row.declined_by or []), agent_id]
            row.offered_to, row.offered_at = None, None
            session.add(TicketEventRow(ticket_id=ticket_id, kind=kind, actor=agent_id, data={}))

    def accept(self, ticket_id: int, agent_id: str, agent_name: str) -> TicketInfo:
        """Give the chat to this agent. When several accept at once, exactly one wins; the others get TicketConflict."""
        try:
            with self.store.session() as session, session.begin():
                row = session.get(TicketRow, ticket_id)
                if row is None:
                    raise TicketNotFound(f"no ticket {ticket_id}")
                won = affected_rows(
                    session.execute(
                        update(TicketRow)
                        .where(TicketRow.id == ticket_id, TicketRow.status == "queued")
                        .values(
                            status="assigned",
                            assigned_agent=agent_id,
                            assigned_at=utcnow(),
                            offered_to=None,
                            offered_at=None,
                        )
                        .execution_options(synchronize_session=False)
                    )
                )
                if won != 1:
                    raise TicketConflict(f"ticket {ticket_id} is no longer waiting")
                move_owner(
                    session,
                    row.conversation_id,
                    Owner.AGENT,
                    f"{agent_name} accepted",
                    f"agent:{agent_id}",
                    expected=Owner.QUEUED,
                    agent_name=agent_name,
                )
                session.add(TicketEventRow(ticket_id=ticket_id, kind="accepted", actor=agent_id, data={}))
        except IllegalTransition:
            raise TicketConflict(f"ticket {ticket_id}'s conversation is not waiting for a person") from None
        return self.get(ticket_id)

    def record_first_response(self, ticket_id: int) -> None:
        with self.store.session() as session, session.begin():
            session.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.first_response_at.is_(None))
                .values(first_response_at=utcnow())
            )

    # Transfers and endings

    def reassign(
        self, ticket_id: int, from_agent: str, to_agent: str, to_name: str, note: str, kind: str
    ) -> TicketInfo:
        """Hand an assigned chat straight to another agent (or a supervisor), keeping its package."""
        with self.store.session() as session, session.begin():
            row = self._assigned_to(session, ticket_id, from_agent)
            row.assigned_agent, row.assigned_at = to_agent, utcnow()
            session.execute(
                update(ConversationRow).where(ConversationRow.id == row.conversation_id).values(agent_name=to_name)
            )
            session.add(
                TicketEventRow(ticket_id=ticket_id, kind=kind, actor=from_agent, data={"to": to_agent, "note": note})
            )
        return self.get(ticket_id)

    def requeue(self, ticket_id: int, from_agent: str, team: str, note: str) -> TicketInfo:
        """Transfer to a team: the chat goes back to the queue for that team, keeping its place and package."""
        with self.store.session() as session, session.begin():
            row = self._assigned_to(session, ticket_id, from_agent)
            move_owner(
                session,
                row.conversation_id,
                Owner.QUEUED,
                f"Transferred to the {team} team",
                f"agent:{from_agent}",
                expected=Owner.AGENT,
            )
            row.status, row.team, row.assigned_agent, row.assigned_at = "queued", team, None, None
            row.declined_by = []
            session.add(
                TicketEventRow(
                    ticket_id=ticket_id, kind="transfer_team", actor=from_agent, data={"to": team, "note": note}
                )
            )
        return self.get(ticket_id)

    def close(
        self,
        ticket_id: int,
        agent_id: str,
        status: str,
        owner: Owner,
        reason: str,
        needed: bool | None = None,
        comment: str | None = None,
    ) -> TicketInfo:
        """End the handoff: `returned` gives the chat back to the bot, `resolved` closes it with a verdict."""
        with self.store.session() as session, session.begin():
            row = self._assigned_to(session, ticket_id, agent_id)
            move_owner(session, row.conversation_id, owner, reason, f"agent:{agent_id}", expected=Owner.AGENT)
            row.status, row.closed_at, row.needed, row.verdict_comment = status, utcnow(), needed, comment
            session.add(
                TicketEventRow(
                    ticket_id=ticket_id, kind=status, actor=agent_id, data={"needed": needed, "comment": comment}
                )
            )
        return self.get(ticket_id)

    def close_offline(self, ticket_id: int, agent_id: str, comment: str | None) -> TicketInfo:
        with self.store.session() as session, session.begin():
            row = session.get(TicketRow, ticket_id)
            if row is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            if row.status != "offline" or row.closed_at is not None:
                raise TicketConflict(f"ticket {ticket_id} is not an open offline ticket")
            row.closed_at, row.verdict_comment = utcnow(), comment
            session.add(
                TicketEventRow(ticket_id=ticket_id, kind="offline_closed", actor=agent_id, data={"comment": comment})
            )
        return self.get(ticket_id)

    @staticmethod
    def _assigned_to(session: Session, ticket_id: int, agent_id: str) -> TicketRow:
        row = session.get(TicketRow, ticket_id)
        if row is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        if row.status != "assigned" or row.assigned_agent != agent_id:
            raise TicketConflict(f"ticket {ticket_id} is not held by {agent_id}")
        return row

    # Notes, contacts and SLAs

    def add_event(self, ticket_id: int, kind: str, actor: str, data: dict[str, Any]) -> None:
        with self.store.session() as session, session.begin():
            if session.get(TicketRow, ticket_id) is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            session.add(TicketEventRow(ticket_id=ticket_id, kind=kind, actor=actor, data=data))

    def set_contact(self, ticket_id: int, email: str | None, message: str | None) -> TicketInfo:
        with self.store.session() as session, session.begin():
            self.set_contact_in(session, ticket_id, email, message)
        return self.get(ticket_id)

    @staticmethod
    def set_contact_in(session: Session, ticket_id: int, email: str | None, message: str | None) -> None:
        """set_contact in the caller's transaction."""
        row = session.get(TicketRow, ticket_id)
        if row is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        if email:
            row.contact_email = email
        if message:
            row.contact_message = "\n".join(filter(None, [row.contact_message, message]))

    def mark_at_risk(self, ticket_id: int, priority: str) -> bool:
        """Flag the SLA as at risk and raise the priority, once; False if already flagged or answered."""
        with self.store.session() as session, session.begin():
            changed = affected_rows(
                session.execute(
                    update(TicketRow)
                    .where(
                        TicketRow.id == ticket_id,
                        TicketRow.sla_at_risk.is_(False),
                        TicketRow.first_response_at.is_(None),
                    )
                    .values(sla_at_risk=True, priority=priority)
                )
            )
            if changed:
                session.add(
                    TicketEventRow(ticket_id=ticket_id, kind="sla_at_risk", actor="sla", data={"priority": priority})
                )
            return bool(changed)

    def mark_breached(self, ticket_id: int) -> bool:
        with self.store.session() as session, session.begin():
            changed = affected_rows(
                session.execute(
                    update(TicketRow)
                    .where(
                        TicketRow.id == ticket_id,
                        TicketRow.sla_breached.is_(False),
                        TicketRow.first_response_at.is_(None),
                    )
                    .values(sla_breached=True)
                )
            )
            if changed:
                session.add(TicketEventRow(ticket_id=ticket_id, kind="sla_breached", actor="sla", data={}))
            return bool(changed)

    def count(self, *statuses: str) -> int:
        with self.store.reading() as session:
            return int(
                session.scalar(select(func.count()).select_from(TicketRow).where(TicketRow.status.in_(statuses))) or 0
            )
