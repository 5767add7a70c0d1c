"""The customer websocket protocol, rule by rule, against the real app and real SQLite, on the fake analyzer."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bot.protocol import max_frame_bytes
from tests.bot.chat_client import hello, is_type, say, store_of, until


def test_new_conversation_gets_welcome_greeting_and_state(client):
    with client.websocket_connect("/ws/chat") as ws:
        welcome = hello(ws)
        assert welcome["resumed"] is False and welcome["state"] == "bot"
        assert welcome["conversation_id"] and len(welcome["resume_token"]) >= 20
        greeting = ws.receive_json()
        assert greeting["type"] == "message" and greeting["seq"] == 1 and greeting["sender"] == "bot"
        assert "bot" in greeting["text"]  # the customer knows they are talking to a bot
        assert ws.receive_json() == {"type": "state", "state": "bot"}


def test_ack_comes_after_the_message_is_committed(client):
    with client.websocket_connect("/ws/chat") as ws:
        cid = hello(ws)["conversation_id"]
        msg_id = say(ws, "How long does standard shipping take?")
        ack, _ = until(ws, is_type("ack"))
        assert ack == {"type": "ack", "client_msg_id": msg_id, "seq": 2}
        stored = {m.seq: m for m in store_of(client).messages_after(cid)}
        assert stored[2].client_msg_id == msg_id and stored[2].sender == "customer"


def test_duplicate_client_msg_id_gets_the_same_ack_and_stores_nothing_new(client):
    with client.websocket_connect("/ws/chat") as ws:
        cid = hello(ws)["conversation_id"]
        say(ws, "Do you ship to Canada?", "dup-1")
        first, _ = until(ws, is_type("ack"))
        say(ws, "Do you ship to Canada?", "dup-1")
        second, _ = until(ws, is_type("ack"))
        assert first == second
        customer = [m for m in store_of(client).messages_after(cid) if m.sender == "customer"]
        assert [m.client_msg_id for m in customer] == ["dup-1"]


def test_bot_answers_from_the_knowledge_base(client):
    with client.websocket_connect("/ws/chat") as ws:
        cid = hello(ws)["conversation_id"]
        say(ws, "How do I reset my password?")
        reply, _ = until(ws, lambda f: f.get("type") == "message" and f.get("sender") == "bot" and f["seq"] > 1)
        stored = store_of(client).messages_after(cid, reply["seq"] - 1)[0]
        assert stored.analysis["intent"] in {"password_reset", "login_trouble"}
        assert reply["ts"].endswith("+00:00")


def test_resume_with_last_seq_sends_exactly_what_was_missed(client):
    with client.websocket_connect("/ws/chat") as ws:
        welcome = hello(ws)
        for question in ("What payment methods do you accept?", "How do I return an item?"):
            say(ws, question)
            until(ws, lambda f: f.get("type") == "message" and f.get("sender") == "bot" and f["seq"] > 1)
    cid, token = welcome["conversation_id"], welcome["resume_token"]
    everything = [m.seq for m in store_of(client).messages_after(cid)]
    assert everything == list(range(1, len(everything) + 1)) and len(everything) >= 5
    with client.websocket_connect("/ws/chat") as ws:
        again = hello(ws, cid, token, last_seq=2)
        assert again["resumed"] is True and again["conversation_id"] == cid
        state, replayed = until(ws, is_type("state"))
        assert [f["seq"] for f in replayed] == everything[2:]  # no gap, no duplicate


def test_wrong_resume_token_starts_a_new_conversation_and_reveals_nothing(client):
    with client.websocket_connect("/ws/chat") as ws:
        first = hello(ws)
        say(ws, "my secret order is NW-123456")
        until(ws, is_type("ack"))
    for token in ("not-the-token", None):
        with client.websocket_connect("/ws/chat") as ws:
            other = hello(ws, first["conversation_id"], token, last_seq=0)
            assert other["resumed"] is False and other["conversation_id"] != first["conversation_id"]
            _, before_state = until(ws, is_type("state"))
            assert all("NW-123456" not in f.get("text", "") for f in before_state)


def test_malformed_frames_get_errors_and_the_connection_stays_usable(client):
    with client.websocket_connect("/ws/chat") as ws:
        cid = hello(ws)["conversation_id"]
        until(ws, is_type("state"))
        bad = [
            ("{oops", "bad_json"),
            ('{"type": "dance"}', "unknown_type"),
            ('{"type": "message", "text": "missing id"}', "invalid_frame"),
            ('{"type": "message", "client_msg_id": "e1", "text": ""}', "empty_text"),
            ('{"type": "message", "client_msg_id": "e2", "text": "' + "a" * 2001 + '"}', "text_too_long"),
        ]
        for raw, code in bad:
            ws.send_text(raw)
            error = ws.receive_json()
            assert error["type"] == "error" and error["code"] == code and error["message"]
        msg_id = say(ws, "hello there")
        ack, _ = until(ws, is_type("ack"))
        assert ack["client_msg_id"] == msg_id and ack["seq"] == 2  # nothing was stored for the bad frames
        assert [m.sender for m in store_of(client).messages_after(cid, 0)][:2] == ["bot", "customer"]


def test_message_before_hello_is_refused(client):
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "message", "client_msg_id": "early", "text": "hi"})
        assert ws.receive_json()["code"] == "hello_required"
        assert hello(ws)["resumed"] is False


def test_oversized_frame_closes_with_1009(client):
    with client.websocket_connect("/ws/chat") as ws:
        hello(ws)
        until(ws, is_type("state"))
        ws.send_text('{"type": "message", "client_msg_id": "big", "text": "' + "x" * max_frame_bytes(2000) + '"}')
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 1009


def test_foreign_origin_is_refused_and_own_or_listed_origins_are_allowed(make_app):
    with TestClient(make_app(server={"allowed_origins": ["https://shop.example"]})) as client:
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/ws/chat", headers={"origin": "https://evil.example"}),
        ):
            pass
        assert refused.value.code == 1008
        for origin in ("https://shop.example", "http://testserver"):
            with client.websocket_connect("/ws/chat", headers={"origin": origin}) as ws:
                assert hello(ws)["type"] == "welcome"


def test_rate_limit_answers_with_retry_after(make_app):
    with (
        TestClient(make_app(server={"rate_burst": 3, "rate_per_second": 0.2})) as client,
        client.websocket_connect("/ws/chat") as ws,
    ):
        cid = hello(ws)["conversation_id"]  # the hello spends one token
        for n in range(3):
            say(ws, f"thanks {n}", f"r{n}")
        limited, before = until(ws, is_type("error", code="rate_limited"))
        assert limited["retry_after"] > 0
        acked = [f["client_msg_id"] for f in before if f["type"] == "ack"]
        assert acked == ["r0", "r1"]
        customer = [m.client_msg_id for m in store_of(client).messages_after(cid) if m.sender == "customer"]
        assert "r2" not in customer  # refused, not stored


def test_asking_for_a_person_queues_the_chat_and_the_bot_goes_quiet(client):
    client.app.state.services.agents.set_status("admin", "online")  # somebody is in, so the chat is queued
    with client.websocket_connect("/ws/chat") as ws:
        cid = hello(ws)["conversation_id"]
        until(ws, is_type("state"))
        say(ws, "I want to talk to a real person please")
        state, _ = until(ws, is_type("state"))
        assert state["state"] == "queued"
        assert state["position"] == 1 and state["eta_s"] > 0 and state["reason"]
        notice, _ = until(ws, lambda f: f.get("type") == "message" and f.get("sender") == "system")
        say(ws, "Where is my order?")
        until(ws, is_type("ack"))
    # The bot never answers while it does not own the conversation.
    senders = [m.sender for m in store_of(client).messages_after(cid)]
    assert senders[-1] == "customer" and senders.count("bot") == 1  # only the greeting


def test_typing_is_relayed_to_the_other_side_but_not_echoed(client):
    with client.websocket_connect("/ws/chat") as first:
        welcome = hello(first)
        until(first, is_type("state"))
        say(first, "hello there", "opening")  # a conversation is stored with its first message
        until(first, is_type("ack"))
        with client.websocket_connect("/ws/chat") as second:
            hello(second, welcome["conversation_id"], welcome["resume_token"], last_seq=1)
            until(second, is_type("state"))
            first.send_json({"type": "typing"})
            assert second.receive_json() == {"type": "typing", "sender": "customer"}
            say(first, "thanks!", "after-typing")
            frame, skipped = until(first, is_type("ack"))
            assert all(f["type"] != "typing" for f in skipped)
