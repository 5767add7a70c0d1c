"""Tickets against a real SQLite file: exactly once, concurrent accepts, transfers and endings."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from handoff.ownership import Owner
from handoff.tickets import NewTicket, TicketConflict, Tickets


@pytest.fixture
def tickets(store):
    return Tickets(store)


def new(cid, offline=False, priority="normal"):
    return NewTicket(
        cid, priority, "orders", "explicit_request", "Asked for a person", {"summary": "x"}, 600.0, offline
    )


def queued_ticket(store, tickets):
    info, _ = store.start()
    ticket, created = tickets.open(new(info.id))
    assert created
    return ticket


def test_open_queues_the_conversation_with_an_sla(store, tickets):
    ticket = queued_ticket(store, tickets)
    assert ticket.status == "queued" and ticket.handoff_no == 1
    assert (ticket.sla_due_at - ticket.queued_at).total_seconds() == 600
    assert store.get(ticket.conversation_id).state is Owner.QUEUED


def test_one_ticket_per_handoff_even_when_detectors_fire_concurrently(store, tickets):
    info, _ = store.start()
    barrier = threading.Barrier(8)

    def escalate(_):
        barrier.wait()
        return tickets.open(new(info.id))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(escalate, range(8)))
    assert sum(created for _, created in results) == 1
    assert len({ticket.id for ticket, _ in results}) == 1
    assert len(tickets.for_conversation(info.id)) == 1


def test_a_retried_escalation_returns_the_same_ticket(store, tickets):
    ticket = queued_ticket(store, tickets)
    again, created = tickets.open(new(ticket.conversation_id))
    assert not created and again.id == ticket.id


def test_a_second_handoff_after_returning_to_the_bot_is_a_second_ticket(store, tickets):
    ticket = queued_ticket(store, tickets)
    tickets.accept(ticket.id, "ana", "Ana")
    tickets.close(ticket.id, "ana", "returned", Owner.BOT, "back to bot")
    second, created = tickets.open(new(ticket.conversation_id))
    assert created and second.handoff_no == 2 and second.id != ticket.id


@pytest.mark.parametrize("trial", range(100))
def test_exactly_one_of_ten_concurrent_accepts_wins(store, tickets, trial):
    ticket = queued_ticket(store, tickets)
    barrier = threading.Barrier(10)

    def accept(n):
        barrier.wait()
        try:
            tickets.accept(ticket.id, f"agent{n}", f"Agent {n}")
            return n
        except TicketConflict:
            return None

    with ThreadPoolExecutor(10) as pool:
        winners = [n for n in pool.map(accept, range(10)) if n is not None]
    assert len(winners) == 1
    final = tickets.get(ticket.id)
    assert final.status == "assigned" and final.assigned_agent == f"agent{winners[0]}"
    assert store.get(ticket.conversation_id).agent_name == f"Agent {winners[0]}"


def test_offer_decline_and_expiry_are_remembered(store, tickets):
    ticket = queued_ticket(store, tickets)
    assert tickets.offer(ticket.id, "ana")
    assert tickets.get(ticket.id).offered_to == "ana"
    tickets.withdraw_offer(ticket.id, "ana", "offer_expired")
    after = tickets.get(ticket.id)
    assert after.offered_to is None and after.declined_by == ("ana",)
    assert [e["kind"] for e in tickets.events(ticket.id)] == ["opened", "offered", "offer_expired"]


def test_transfer_to_agent_keeps_package_and_notes_it(store, tickets):
    ticket = queued_ticket(store, tickets)
    tickets.accept(ticket.id, "ana", "Ana")
    moved = tickets.reassign(ticket.id, "ana", "bo", "Bo", "needs billing access", "transfer_agent")
    assert moved.assigned_agent == "bo" and moved.package == {"summary": "x"}
    assert store.get(ticket.conversation_id).agent_name == "Bo"
    assert tickets.events(ticket.id)[-1]["data"] == {"to": "bo", "note": "needs billing access"}
    with pytest.raises(TicketConflict):
        tickets.reassign(ticket.id, "ana", "cy", "Cy", "", "transfer_agent")  # Ana no longer holds it


def test_transfer_to_team_requeues_it(store, tickets):
    ticket = queued_ticket(store, tickets)
    tickets.accept(ticket.id, "ana", "Ana")
    moved = tickets.requeue(ticket.id, "ana", "billing", "refund question")
    assert moved.status == "queued" and moved.team == "billing" and moved.assigned_agent is None
    assert moved.queued_at == ticket.queued_at  # keeps its place in line
    assert store.get(ticket.conversation_id).state is Owner.QUEUED


def test_resolve_records_the_verdict_and_closes(store, tickets):
    ticket = queued_ticket(store, tickets)
    tickets.accept(ticket.id, "ana", "Ana")
    done = tickets.close(ticket.id, "ana", "resolved", Owner.CLOSED, "done", needed=False, comment="bot could answer")
    assert done.status == "resolved" and done.needed is False and done.verdict_comment == "bot could answer"
    assert store.get(ticket.conversation_id).state is Owner.CLOSED
    assert tickets.recent_handle_seconds()[0] >= 0


def test_only_the_holder_can_end_a_chat(store, tickets):
    ticket = queued_ticket(store, tickets)
    with pytest.raises(TicketConflict):
        tickets.close(ticket.id, "ana", "resolved", Owner.CLOSED, "x")  # not accepted yet
    tickets.accept(ticket.id, "ana", "Ana")
    with pytest.raises(TicketConflict):
        tickets.close(ticket.id, "bo", "returned", Owner.BOT, "x")


def test_sla_at_risk_and_breach_are_recorded_once(store, tickets):
    ticket = queued_ticket(store, tickets)
    assert tickets.mark_at_risk(ticket.id, "high")
    assert not tickets.mark_at_risk(ticket.id, "urgent")
    assert tickets.get(ticket.id).priority == "high"
    assert tickets.mark_breached(ticket.id) and not tickets.mark_breached(ticket.id)
    kinds = [e["kind"] for e in tickets.events(ticket.id)]
    assert kinds.count("sla_at_risk") == 1 and kinds.count("sla_breached") == 1


def test_an_answered_chat_cannot_breach(store, tickets):
    ticket = queued_ticket(store, tickets)
    tickets.accept(ticket.id, "ana", "Ana")
    tickets.record_first_response(ticket.id)
    assert not tickets.mark_breached(ticket.id)


def test_offline_ticket_leaves_the_bot_in_charge_and_is_reused(store, tickets):
    info, _ = store.start()
    ticket, created = tickets.open(new(info.id, offline=True))
    assert created and ticket.status == "offline" and ticket.sla_due_at is None
    assert store.get(info.id).state is Owner.BOT
    again, created_again = tickets.open(new(info.id, offline=True))
    assert not created_again and again.id == ticket.id
    with_contact = tickets.set_contact(ticket.id, "ada@example.com", "my order is late")
    assert with_contact.contact_email == "ada@example.com" and with_contact.contact_message == "my order is late"
    tickets.close_offline(ticket.id, "ana", "emailed her")
    assert tickets.open_for_conversation(info.id) is None
