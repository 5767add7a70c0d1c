from datetime import date, timedelta

from detectors.tuning.conversations import read_conversations
from handoff.export import export_verdicts
from handoff.ownership import Owner
from handoff.records import utcnow
from handoff.store import ConversationStore
from handoff.tickets import NewTicket, Tickets


def resolved_handoff(store, tickets, texts, needed):
    info, _ = store.start()
    for n, text in enumerate(texts):
        store.add_customer_message(info.id, f"m{n}", text)
        store.add_message(info.id, "bot", "bot answer")
    transcript = [{"sender": m.sender, "text": m.text} for m in store.messages_after(info.id)]
    ticket, _ = tickets.open(
        NewTicket(info.id, "normal", "orders", "sentiment", "upset", {"transcript": transcript}, 600)
    )
    tickets.accept(ticket.id, "ana", "Ana")
    tickets.close(ticket.id, "ana", "resolved", Owner.CLOSED, "done", needed=needed)
    return ticket.id


def test_export_writes_verdicts_in_the_labelled_format(tmp_path):
    store = ConversationStore(f"sqlite:///{tmp_path / 'e.db'}")
    store.create_schema()
    tickets = Tickets(store)
    needed = resolved_handoff(store, tickets, ["where is my parcel", "this is the third time I ask!"], True)
    not_needed = resolved_handoff(store, tickets, ["how do returns work"], False)
    open_ticket, _ = tickets.open(NewTicket(store.start()[0].id, "normal", "orders", "sentiment", "x", {}, 600))
    out = tmp_path / "export.jsonl"
    assert export_verdicts(store, date.today() - timedelta(days=1), out) == 2
    exported = {c.id: c for c in read_conversations(out)}
    assert set(exported) == {f"ticket-{needed}", f"ticket-{not_needed}"}
    yes = exported[f"ticket-{needed}"]
    assert (yes.expected.escalate, yes.expected.turn, yes.expected.trigger) == (True, 2, "sentiment")
    assert [t.role for t in yes.turns] == ["customer", "bot", "customer", "bot"]
    assert exported[f"ticket-{not_needed}"].expected.escalate is False
    assert export_verdicts(store, (utcnow() + timedelta(days=1)).date(), out) == 0
    store.close()
