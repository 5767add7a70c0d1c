"""Handoff rules through the running app: real SQLite, the real encoder, the agents' API and the customer socket."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from detectors.thresholds import Thresholds
from handoff.records import BankEntryRow, TicketEventRow
from tests.bot.chat_client import hello, is_type, say, until

ADMIN_PASSWORD = "admin-password-1"


@pytest.fixture(autouse=True)
def admin_password(monkeypatch):
    monkeypatch.setenv("ESCALATOR_ADMIN_PASSWORD", ADMIN_PASSWORD)


def start(make_app, **handoff):
    return TestClient(make_app(handoff={"dispatch_interval_s": 0.05, **handoff}))


class Agents:
    """Logs agents in through the API and acts as them."""

    def __init__(self, client):
        self.client = client
        self.tokens = {"admin": self._login("admin", ADMIN_PASSWORD)}

    def _login(self, name, password):
        response = self.client.post("/api/agent/login", json={"username": name, "password": password})
        assert response.status_code == 200, response.text
        self.client.cookies.clear()  # act through bearer tokens, one identity per call
        return response.json()["token"]

    def add(self, name, teams=(), role="agent", max_chats=3, online=True):
        created = self.call(
            "admin",
            "post",
            "/api/agent/agents",
            json={
                "id": name,
                "display_name": name.title(),
                "teams": list(teams),
                "role": role,
                "max_chats": max_chats,
                "password": f"{name}-password",
            },
        )
        assert created.status_code == 201, created.text
        self.tokens[name] = self._login(name, f"{name}-password")
        if online:
            self.status(name, "online")

    def status(self, name, status):
        assert self.call(name, "put", "/api/agent/status", json={"status": status}).status_code == 200

    def call(self, name, method, path, **kwargs):
        return getattr(self.client, method)(path, headers={"Authorization": f"Bearer {self.tokens[name]}"}, **kwargs)

    def ticket(self, name, ticket_id):
        return self.call(name, "get", f"/api/agent/tickets/{ticket_id}").json()

    def queue(self, name="admin"):
        return self.call(name, "get", "/api/agent/queue").json()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def escalate(ws, text="I want to talk to a human right now"):
    hello(ws)
    until(ws, is_type("state"))
    say(ws, text)
    state, _ = until(ws, is_type("state"))
    return state


def test_package_has_transcript_trigger_scores_entities_summary_and_identity(make_app):
    with start(make_app) as client:
        agents = Agents(client)
        agents.add("ana", teams=["orders"])
        with client.websocket_connect("/ws/chat") as ws:
            hello(
                ws,
                customer={
                    "name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "page_url": "https://shop.example/orders",
                    "attributes": {"plan": "gold"},
                },
            )
            until(ws, is_type("state"))
            say(ws, "Where is my order NW-123456? I paid $89.90 on March 3")
            until(ws, lambda f: f.get("sender") == "bot" and f["seq"] > 2)
            say(ws, "I want to talk to a real person please")
            state, _ = until(ws, is_type("state"))
        assert state["state"] == "queued" and state["position"] == 1 and state["eta_s"] > 0
        assert "person" in state["reason"].lower() or "human" in state["reason"].lower()
        listed = agents.queue()["queued"][0]
        package = agents.ticket("admin", listed["id"])["package"]
        assert package["schema_version"] == 2
        assert package["case_type"] is None and package["language"] is None and package["required_skills"] == []
        assert package["trigger"]["detector"] == "explicit_request"
        assert package["trigger"]["score"] >= package["trigger"]["threshold"]
        assert [t["sender"] for t in package["transcript"]][:4] == ["bot", "customer", "bot", "customer"]
        assert len(package["turn_scores"]) == 2 and len(package["sentiment_trajectory"]) == 2
        assert set(package["turn_scores"][0]["detectors"]) == set(Thresholds.model_fields)
        assert package["bot_attempts"] and package["bot_attempts"][0]["intent"]
        assert package["customer"]["name"] == "Ada Lovelace" and package["customer"]["attributes"] == {"plan": "gold"}
        types = {e["type"]: e["text"] for e in package["entities"]}
        assert types.get("order_number") == "NW-123456" and "amount" in types
        assert "NW-123456" in package["summary"]
        assert package["team"] == "orders"  # the bot's last intent was about an order


def test_no_agent_online_makes_an_offline_ticket_and_takes_contact_details(make_app):
    with start(make_app) as client:
        agents = Agents(client)
        with client.websocket_connect("/ws/chat") as ws:
            state = escalate(ws)
            assert state == {"type": "state", "state": "bot", "offline": True}
            notice, _ = until(ws, lambda f: f.get("sender") == "system")
            assert "email" in notice["text"].lower()
            say(ws, "Sure, it's ada@example.com - my jacket zipper broke")
            thanks, _ = until(ws, lambda f: f.get("sender") == "system")
            assert "ada@example.com" in thanks["text"]
            say(ws, "How long do refunds take?")  # the bot stays available
            until(ws, lambda f: f.get("sender") == "bot" and f["seq"] > 1)
        offline = agents.queue()["offline"]
        assert len(offline) == 1 and offline[0]["contact_email"] == "ada@example.com"
        assert "zipper" in offline[0]["contact_message"]
        assert agents.queue()["queued"] == []


def test_outside_business_hours_is_offline_even_with_agents_online(make_app):
    closed_all_week = {"business_hours": {"timezone": "UTC", "days": [], "open": "09:00", "close": "17:00"}}
    with start(make_app, **closed_all_week) as client:
        Agents(client).add("ana")
        with client.websocket_connect("/ws/chat") as ws:
            assert escalate(ws)["offline"] is True


def test_offer_goes_to_the_skill_match_then_to_the_next_agent_after_the_timeout(make_app):
    with start(make_app, offer_timeout_s=0.5) as client:
        agents = Agents(client)
        agents.add("bo", teams=["billing"])
        agents.add("ana", teams=["general"])
        with client.websocket_connect("/ws/chat") as ws:
            escalate(ws)
        ticket_id = agents.queue()["queued"][0]["id"]
        first = wait_for(lambda: agents.ticket("admin", ticket_id)["offered_to"])
        assert first == "ana"  # the chat's team is general; ana is in it
        wait_for(lambda: "ana" in agents.ticket("admin", ticket_id)["declined_by"])
        second = wait_for(lambda: agents.ticket("admin", ticket_id)["offered_to"])
        assert second in {"bo", "admin"} and second != "ana"
        kinds = [e["kind"] for e in agents.ticket("admin", ticket_id)["events"]]
        assert kinds[:4] == ["opened", "offered", "offer_expired", "offered"]


def test_declined_offer_moves_on_and_an_agent_can_pick_from_the_queue(make_app):
    with start(make_app, offer_timeout_s=60) as client:
        agents = Agents(client)
        agents.add("ana", teams=["general"])
        with client.websocket_connect("/ws/chat") as ws:
            escalate(ws)
            ticket_id = agents.queue()["queued"][0]["id"]
            wait_for(lambda: agents.ticket("admin", ticket_id)["offered_to"] == "ana")
            assert agents.call("ana", "post", f"/api/agent/tickets/{ticket_id}/decline").status_code == 200
            assert "ana" in agents.ticket("admin", ticket_id)["declined_by"]
            # The admin picks it from the queue without waiting for an offer.
            assert agents.call("admin", "post", f"/api/agent/tickets/{ticket_id}/accept").status_code == 200
            state, _ = until(ws, is_type("state", state="agent"))
            assert state["agent"] == "Admin"
            assert agents.call("ana", "post", f"/api/agent/tickets/{ticket_id}/accept").status_code == 409


def test_fraud_wording_is_urgent_and_jumps_the_queue(make_app):
    with start(make_app, offer_timeout_s=60) as client:
        agents = Agents(client)
        agents.add("ana")  # online, so chats are queued; she accepts nothing here
        with client.websocket_connect("/ws/chat") as first, client.websocket_connect("/ws/chat") as second:
            escalate(first, "please let me speak to a person")
            hello(second)
            until(second, is_type("state"))
            # One message, so that whichever detector fires first the fraud wording is in the package.
            say(second, "I want to talk to a human, there is an unauthorized charge on my card and I think it is fraud")
            until(second, is_type("state", state="queued"))
            queued = agents.queue()["queued"]
            assert [t["priority"] for t in queued] == ["urgent", "normal"]
            # The first customer is told they moved back (earlier state frames may still be in flight).
            state, _ = until(first, is_type("state", position=2))
            assert state["state"] == "queued"
        reasons = agents.ticket("admin", queued[0]["id"])["package"]["priority"]["reasons"]
        assert "unauthorized" in " ".join(reasons).lower()


def test_sla_at_risk_raises_priority_and_a_breach_is_recorded(make_app):
    slas = {"sla_s": {"urgent": 0.4, "high": 0.4, "normal": 0.4, "low": 0.4}, "sla_at_risk": 0.5, "offer_timeout_s": 60}
    with start(make_app, **slas) as client:
        agents = Agents(client)
        agents.add("ana", teams=["general"])
        with client.websocket_connect(
            "/ws/agent", headers={"Authorization": f"Bearer {agents.tokens['admin']}"}
        ) as supervisor:
            assert supervisor.receive_json()["type"] == "hello"
            with client.websocket_connect("/ws/chat") as ws:
                escalate(ws)
            ticket_id = agents.queue()["queued"][0]["id"]
            risk, _ = until(supervisor, is_type("sla_at_risk"))
            assert risk["ticket"]["id"] == ticket_id and risk["priority"] == "high"
            until(supervisor, is_type("sla_breached"))
        ticket = agents.ticket("admin", ticket_id)
        assert ticket["sla_at_risk"] and ticket["sla_breached"] and ticket["priority"] == "high"


def test_transfers_keep_the_package_and_add_notes(make_app):
    with start(make_app, offer_timeout_s=60) as client:
        agents = Agents(client)
        agents.add("ana", teams=["general"])
        agents.add("bo", teams=["billing"])
        agents.add("sue", role="supervisor")
        with client.websocket_connect("/ws/chat") as ws:
            escalate(ws)
            ticket_id = agents.queue()["queued"][0]["id"]
            package = agents.ticket("admin", ticket_id)["package"]
            assert agents.call("ana", "post", f"/api/agent/tickets/{ticket_id}/accept").status_code == 200
            until(ws, is_type("state", state="agent"))

            moved = agents.call(
                "ana",
                "post",
                f"/api/agent/tickets/{ticket_id}/transfer",
                json={"to": "agent", "target": "bo", "note": "card question"},
            )
            assert moved.status_code == 200 and moved.json()["assigned_agent"] == "bo"
            # Wait for Bo's frame: a repeat of Ana's state frame may still be in flight.
            state, _ = until(ws, is_type("state", agent="Bo"))
            assert state == {"type": "state", "state": "agent", "agent": "Bo"}

            up = agents.call(
                "bo", "post", f"/api/agent/tickets/{ticket_id}/transfer", json={"to": "supervisor", "note": "angry"}
            )
            assert up.status_code == 200 and up.json()["assigned_agent"] in {"sue", "admin"}
            holder = up.json()["assigned_agent"]

            team = agents.call(
                holder,
                "post",
                f"/api/agent/tickets/{ticket_id}/transfer",
                json={"to": "team", "target": "billing", "note": "refund"},
            )
            assert team.status_code == 200 and team.json()["status"] == "queued" and team.json()["team"] == "billing"
            until(ws, is_type("state", state="queued"))
            bad = agents.call(
                holder, "post", f"/api/agent/tickets/{ticket_id}/transfer", json={"to": "team", "target": "orders"}
            )
            assert bad.status_code == 409  # no longer holds it
        detail = agents.ticket("admin", ticket_id)
        assert detail["package"] == package
        notes = [(e["kind"], e["data"].get("note")) for e in detail["events"] if e["kind"].startswith("transfer")]
        assert notes == [
            ("transfer_agent", "card question"),
            ("transfer_supervisor", "angry"),
            ("transfer_team", "refund"),
        ]


def test_agent_messages_notes_return_to_bot_and_first_response(make_app):
    with start(make_app, offer_timeout_s=60) as client:
        agents = Agents(client)
        agents.add("ana", teams=["general"])
        with client.websocket_connect("/ws/chat") as ws:
            escalate(ws)
            ticket_id = agents.queue()["queued"][0]["id"]
            agents.call("ana", "post", f"/api/agent/tickets/{ticket_id}/accept")
            until(ws, is_type("state", state="agent"))
            sent = agents.call(
                "ana", "post", f"/api/agent/tickets/{ticket_id}/messages", json={"text": "Hi, I'm Ana. How can I help?"}
            )
            assert sent.status_code == 200
            reply, _ = until(ws, lambda f: f.get("sender") == "agent")
            assert reply["author"] == "Ana" and reply["text"].startswith("Hi, I'm Ana")
            agents.call("ana", "post", f"/api/agent/tickets/{ticket_id}/notes", json={"text": "internal: VIP customer"})
            say(ws, "Where is my order?")
            ack, frames = until(ws, is_type("ack"))
            assert agents.ticket("admin", ticket_id)["first_response_at"]
            # Turns an agent handles are still scored and stored, though nothing acts on the scores.
            cid = agents.ticket("admin", ticket_id)["conversation_id"]
            store = client.app.state.services.store
            wait_for(lambda: store.messages_after(cid, ack["seq"] - 1)[0].analysis is not None)
            assert "signals" in store.messages_after(cid, ack["seq"] - 1)[0].analysis
            assert agents.call("ana", "post", f"/api/agent/tickets/{ticket_id}/return").status_code == 200
            until(ws, is_type("state", state="bot"))
            say(ws, "How do I reset my password?")
            bot, seen = until(ws, lambda f: f.get("sender") == "bot" and f["seq"] > 1)
            assert all("internal" not in f.get("text", "") for f in seen)  # notes never reach the customer


def test_only_the_holder_or_a_supervisor_adds_notes(make_app):
    with start(make_app, offer_timeout_s=60) as client:
        agents = Agents(client)
        agents.add("ana", teams=["general"])
        agents.add("bob", teams=["general"])
        agents.add("sue", teams=["general"], role="supervisor", online=False)
        with client.websocket_connect("/ws/chat") as ws:
            escalate(ws)
            ticket_id = agents.queue()["queued"][0]["id"]
            agents.call("ana", "post", f"/api/agent/tickets/{ticket_id}/accept")
            until(ws, is_type("state", state="agent"))
        path = f"/api/agent/tickets/{ticket_id}/notes"
        refused = agents.call("bob", "post", path, json={"text": "not my chat"})
        assert refused.status_code == 403 and "holding" in refused.json()["detail"]
        for name in ("ana", "sue"):
            assert agents.call(name, "post", path, json={"text": f"note by {name}"}).status_code == 200
        with client.app.state.services.store.session() as session:
            notes = session.scalars(select(TicketEventRow).where(TicketEventRow.kind == "note")).all()
        assert sorted(n.data["text"] for n in notes) == ["note by ana", "note by sue"]


def test_resolve_yes_grows_the_bank_and_no_records_a_false_escalation(make_app):
    with start(make_app, offer_timeout_s=60) as client:
        agents = Agents(client)
        agents.status("admin", "online")
        bank = client.app.state.services.analysis.bank
        size = len(bank)
        verdicts = {}
        for needed in (True, False):
            with client.websocket_connect("/ws/chat") as ws:
                escalate(ws)
                ticket_id = agents.queue()["queued"][0]["id"]
                agents.call("admin", "post", f"/api/agent/tickets/{ticket_id}/accept")
                done = agents.call(
                    "admin",
                    "post",
                    f"/api/agent/tickets/{ticket_id}/resolve",
                    json={"needed": needed, "comment": "verdict test"},
                )
                assert done.status_code == 200 and done.json()["status"] == "resolved"
                until(ws, is_type("state", state="closed"))
                verdicts[needed] = ticket_id
        assert len(bank) == size + 1 and f"ticket-{verdicts[True]}" in bank.ids
        with client.app.state.services.store.session() as session:
            saved = session.scalars(select(BankEntryRow.ticket_id)).all()
            resolved = session.scalars(select(TicketEventRow).where(TicketEventRow.kind == "resolved")).all()
        assert saved == [verdicts[True]]
        assert {e.ticket_id: e.data["needed"] for e in resolved} == {verdicts[True]: True, verdicts[False]: False}


def test_confirmed_escalations_return_to_the_bank_after_a_restart(make_app):
    with TestClient(make_app(handoff={"dispatch_interval_s": 0.05})) as client:
        agents = Agents(client)
        agents.status("admin", "online")
        with client.websocket_connect("/ws/chat") as ws:
            escalate(ws)
        ticket_id = agents.queue()["queued"][0]["id"]
        agents.call("admin", "post", f"/api/agent/tickets/{ticket_id}/accept")
        agents.call("admin", "post", f"/api/agent/tickets/{ticket_id}/resolve", json={"needed": True})
    with TestClient(make_app(handoff={"dispatch_interval_s": 0.05})) as client:  # same database file
        assert f"ticket-{ticket_id}" in client.app.state.services.analysis.bank.ids


def test_agent_routes_need_a_session(make_app):
    with start(make_app) as client:
        assert client.get("/api/agent/queue").status_code == 401
        assert client.post("/api/agent/login", json={"username": "admin", "password": "nope"}).status_code == 401
        agents = Agents(client)
        agents.add("ana")
        assert agents.call("ana", "get", "/api/agent/supervisor/overview").status_code == 403
        assert agents.call("ana", "post", "/api/agent/agents", json={}).status_code == 403
        overview = agents.call("admin", "get", "/api/agent/supervisor/overview").json()
        assert {a["id"] for a in overview["agents"]} == {"admin", "ana"}


def test_after_a_return_to_the_bot_the_detectors_start_afresh(make_app):
    with start(make_app, offer_timeout_s=60) as client:
        agents = Agents(client)
        agents.status("admin", "online")
        with client.websocket_connect("/ws/chat") as ws:
            escalate(ws)  # a request for a person, which the intent model also finds out of scope
            ticket_id = agents.queue()["queued"][0]["id"]
            agents.call("admin", "post", f"/api/agent/tickets/{ticket_id}/accept")
            agents.call("admin", "post", f"/api/agent/tickets/{ticket_id}/return")
            until(ws, is_type("state", state="bot"))
            # One odd question after the hand-back is one uncertain turn, not the second of a streak.
            say(ws, "can you book me a flight to Paris?")
            reply, seen = until(ws, lambda f: f.get("sender") == "bot" and f["seq"] > 1)
            assert all(f.get("type") != "state" for f in seen)
