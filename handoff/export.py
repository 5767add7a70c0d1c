"""Production traffic as tuning data: resolved handoffs with the agents' verdicts, in the labelled-conversation format."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import select

from detectors.tuning.conversations import (
    Expected,
    LabelledConversation,
    ScriptRole,
    ScriptTurn,
    write_conversations,
)
from handoff.records import TicketRow
from handoff.store import ConversationStore

ROLES: dict[str, ScriptRole] = {"customer": "customer", "bot": "bot", "agent": "agent"}


def export_verdicts(store: ConversationStore, since: date, out: Path) -> int:
    """Write every handoff resolved since `since` that has a verdict; return how many.

    Each conversation runs up to the handoff. 'Needed' becomes an expected escalation at the customer turn where it
    happened, with the trigger that fired; 'not needed' becomes a conversation that should not have escalated.
    """
    start = datetime.combine(since, time.min, tzinfo=UTC)
    with store.reading() as session:
        tickets = session.scalars(
            select(TicketRow)
            .where(TicketRow.status == "resolved", TicketRow.needed.is_not(None), TicketRow.closed_at >= start)
            .order_by(TicketRow.closed_at)
        ).all()
    items = []
    for ticket in tickets:
        transcript = [t for t in ticket.package.get("transcript", []) if t["sender"] in ROLES]
        turns = tuple(ScriptTurn(ROLES[t["sender"]], t["text"]) for t in transcript)
        customer_turns = sum(1 for t in turns if t.role == "customer")
        if customer_turns == 0:
            continue
        expected = Expected(True, customer_turns, ticket.trigger) if ticket.needed else Expected(False, None, None)
        items.append(LabelledConversation(f"ticket-{ticket.id}", turns, expected))
    return write_conversations(out, items)
