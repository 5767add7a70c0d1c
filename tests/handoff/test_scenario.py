"""One whole handoff over real sockets against the real server process.

The customer chats with the bot, a detector triggers, the customer is queued and sees a position, an agent accepts,
messages flow both ways, the agent transfers, the chat is resolved with a verdict, and the bank grows.
"""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from tests.bot.server_process import ServerProcess

pytestmark = pytest.mark.slow


def frames_until(ws, predicate, limit=60):
    seen = []
    for _ in range(limit):
        frame = json.loads(ws.recv(timeout=30))
        if predicate(frame):
            return frame, seen
        seen.append(frame)
    raise AssertionError(f"no matching frame in {seen}")


def test_a_whole_handoff(tmp_path, model_cache):
    database = f"sqlite:///{tmp_path / 'scenario.db'}"
    server = ServerProcess(tmp_path, database, model_cache)
    server.env["ESCALATOR_ADMIN_PASSWORD"] = "scenario-admin"
    server.start()
    api = httpx.Client(base_url=server.base, timeout=30)
    try:
        admin = {
            "Authorization": "Bearer "
            + api.post("/api/agent/login", json={"username": "admin", "password": "scenario-admin"}).json()["token"]
        }
        for name, teams in (("ana", ["general", "orders"]), ("bo", ["billing"])):
            created = api.post(
                "/api/agent/agents",
                headers=admin,
                json={"id": name, "display_name": name.title(), "teams": teams, "password": f"{name}-password-1"},
            )
            assert created.status_code == 201
        api.cookies.clear()
        tokens = {
            name: api.post("/api/agent/login", json={"username": name, "password": f"{name}-password-1"}).json()[
                "token"
            ]
            for name in ("ana", "bo")
        }
        auth = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
        api.cookies.clear()
        assert api.put("/api/agent/status", headers=auth["ana"], json={"status": "online"}).status_code == 200
        assert api.put("/api/agent/status", headers=auth["bo"], json={"status": "online"}).status_code == 200

        with (
            connect(server.ws_url.replace("/ws/chat", "/ws/agent"), additional_headers=auth["ana"]) as ana_socket,
            connect(server.ws_url) as customer,
        ):
            assert json.loads(ana_socket.recv(timeout=30))["type"] == "hello"
            customer.send(
                json.dumps(
                    {
                        "type": "hello",
                        "conversation_id": None,
                        "resume_token": None,
                        "last_seq": 0,
                        "customer": {"name": "Casey", "email": "casey@example.com"},
                    }
                )
            )
            welcome = json.loads(customer.recv(timeout=30))
            cid = welcome["conversation_id"]

            # 1. The bot answers from the knowledge base.
            customer.send(
                json.dumps({"type": "message", "client_msg_id": "c1", "text": "Where is my order NW-204981?"})
            )
            frames_until(customer, lambda f: f.get("sender") == "bot" and f["seq"] > 1)

            # 2. A detector triggers and the customer is queued with a position and a wait.
            customer.send(
                json.dumps({"type": "message", "client_msg_id": "c2", "text": "Can I speak to a human agent please?"})
            )
            queued, _ = frames_until(customer, lambda f: f.get("type") == "state")
            assert queued["state"] == "queued" and queued["position"] == 1 and queued["eta_s"] > 0 and queued["reason"]

            # 3. The best agent is offered the chat and accepts.
            offer, _ = frames_until(ana_socket, lambda f: f.get("type") == "offer")
            ticket_id = offer["ticket"]["id"]
            assert api.post(f"/api/agent/tickets/{ticket_id}/accept", headers=auth["ana"]).status_code == 200
            joined, _ = frames_until(customer, lambda f: f.get("type") == "state")
            assert joined == {"type": "state", "state": "agent", "agent": "Ana"}

            # 4. Messages flow both ways.
            api.post(
                f"/api/agent/tickets/{ticket_id}/messages", headers=auth["ana"], json={"text": "Hi Casey, I'm on it."}
            )
            reply, _ = frames_until(customer, lambda f: f.get("sender") == "agent")
            assert reply["author"] == "Ana" and reply["text"] == "Hi Casey, I'm on it."
            customer.send(json.dumps({"type": "message", "client_msg_id": "c3", "text": "Thanks, it was due Monday."}))
            relayed, _ = frames_until(
                ana_socket, lambda f: f.get("type") == "chat_event" and f["event"].get("sender") == "customer"
            )
            assert relayed["ticket_id"] == ticket_id and relayed["event"]["text"] == "Thanks, it was due Monday."

            # 5. The agent transfers the chat with a note; the package stays.
            moved = api.post(
                f"/api/agent/tickets/{ticket_id}/transfer",
                headers=auth["ana"],
                json={"to": "agent", "target": "bo", "note": "refund needed"},
            )
            assert moved.status_code == 200
            taken_over, _ = frames_until(customer, lambda f: f.get("type") == "state")
            assert taken_over["agent"] == "Bo"

            # 6. Resolved with a verdict.
            resolved = api.post(
                f"/api/agent/tickets/{ticket_id}/resolve",
                headers=auth["bo"],
                json={"needed": True, "comment": "late parcel"},
            )
            assert resolved.status_code == 200
            closed, _ = frames_until(customer, lambda f: f.get("type") == "state")
            assert closed["state"] == "closed"

        detail = api.get(f"/api/agent/tickets/{ticket_id}", headers=auth["bo"]).json()
        assert detail["package"]["customer"]["name"] == "Casey"
        assert any(e["kind"] == "transfer_agent" and e["data"]["note"] == "refund needed" for e in detail["events"])
        assert detail["needed"] is True

        # 7. The bank learned the conversation.
        engine = create_engine(database)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT ticket_id FROM bank_entries")).scalars().all() == [ticket_id]
            senders = (
                connection.execute(
                    text("SELECT sender FROM messages WHERE conversation_id = :c ORDER BY seq"), {"c": cid}
                )
                .scalars()
                .all()
            )
        engine.dispose()
        assert senders.count("agent") == 1 and "system" in senders
    finally:
        api.close()
        server.stop()
