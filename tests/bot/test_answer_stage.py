"""The answering stage, on the real app and real SQLite: acks never wait for answers, the customer sees the bot
typing when an answer is slow, a full stage sheds with a clear error, conversations are stored at their first
message (and limited per address), and a restart answers what a crash left unanswered."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from escalator.app import create_app
from handoff.records import ConversationRow
from handoff.store import NewConversation
from tests.bot.chat_client import hello, is_type, say, until
from tests.fakes import FakeAnalyzer


class GatedAnalyzer(FakeAnalyzer):
    """The fake analyzer, holding every pass until the gate opens: a busy model, on demand."""

    def __init__(self, knowledge_base) -> None:
        super().__init__(knowledge_base)
        self.gate = threading.Event()

    def analyze(self, texts):
        self.gate.wait(20)
        return super().analyze(texts)


@pytest.fixture
def gated(make_settings):
    def make(**server):
        settings = make_settings(server={"rate_burst": 100, "rate_per_second": 100, **server})
        analyzer = GatedAnalyzer(settings.bot.knowledge_base)
        return analyzer, TestClient(create_app(settings, analyzer=analyzer, entity_nlp=None))

    return make


def is_bot_reply(frame):
    return frame.get("type") == "message" and frame.get("sender") == "bot" and frame["seq"] > 1


def conversations_stored(client) -> int:
    with client.app.state.services.store.session() as session:
        return session.scalar(select(func.count()).select_from(ConversationRow))


def test_acks_come_while_the_models_are_busy_and_the_bot_shows_it_is_typing(gated):
    analyzer, client = gated(typing_after_s=0.1)
    with client, client.websocket_connect("/ws/chat") as ws:
        hello(ws)
        until(ws, is_type("state"))
        first, second = say(ws, "How do I reset my password?"), say(ws, "Do you ship to Canada?")
        acks = [until(ws, is_type("ack"))[0]["client_msg_id"] for _ in range(2)]
        assert acks == [first, second]  # both committed and acknowledged with no answer yet
        typing, _ = until(ws, is_type("typing"))
        assert typing == {"type": "typing", "sender": "bot"}
        analyzer.gate.set()
        replies = [until(ws, is_bot_reply)[0] for _ in range(2)]
        assert replies[0]["seq"] < replies[1]["seq"]


def test_past_the_stage_depth_a_message_is_refused_with_retry_after_and_not_stored(gated):
    analyzer, client = gated(max_waiting_turns=1)
    with client, client.websocket_connect("/ws/chat") as ws:
        cid = hello(ws)["conversation_id"]
        until(ws, is_type("state"))
        say(ws, "How do I reset my password?", "kept")
        until(ws, is_type("ack"))
        say(ws, "Do you ship to Canada?", "shed")
        refused, _ = until(ws, is_type("error"))
        assert refused["code"] == "busy" and refused["client_msg_id"] == "shed" and refused["retry_after"] > 0
        analyzer.gate.set()
        until(ws, is_bot_reply)
        say(ws, "Do you ship to Canada?", "shed")  # sent again, as the error asked: taken now
        until(ws, is_type("ack", client_msg_id="shed"))
        stored = [m.client_msg_id for m in client.app.state.services.store.messages_after(cid) if m.client_msg_id]
        assert stored == ["kept", "shed"]


def test_a_conversation_is_stored_at_its_first_message_not_at_hello(gated):
    analyzer, client = gated()
    analyzer.gate.set()
    with client:
        for _ in range(3):
            with client.websocket_connect("/ws/chat") as ws:
                hello(ws)
                until(ws, is_type("state"))
        assert conversations_stored(client) == 0  # visitors who said nothing cost no row
        with client.websocket_connect("/ws/chat") as ws:
            cid = hello(ws)["conversation_id"]
            greeting = ws.receive_json()
            until(ws, is_type("state"))
            say(ws, "How do I reset my password?")
            until(ws, is_bot_reply)
        stored = client.app.state.services.store.messages_after(cid)
        assert [(m.seq, m.sender) for m in stored][:2] == [(1, "bot"), (2, "customer")]
        assert stored[0].text == greeting["text"] and conversations_stored(client) == 1


def test_new_conversations_per_address_are_limited_with_a_clear_error(gated):
    analyzer, client = gated(new_conversations_per_minute=2)
    analyzer.gate.set()
    with client:
        for n in range(2):
            with client.websocket_connect("/ws/chat") as ws:
                hello(ws)
                say(ws, "hello", f"first-{n}")
                until(ws, is_type("ack"))
        with client.websocket_connect("/ws/chat") as ws:
            hello(ws)
            say(ws, "hello", "third")
            refused, _ = until(ws, is_type("error"))
        assert refused["code"] == "too_many_conversations" and refused["client_msg_id"] == "third"
        assert 0 < refused["retry_after"] <= 60
        assert conversations_stored(client) == 2


def test_a_restart_answers_what_a_crash_left_acknowledged_but_unanswered(make_settings):
    settings = make_settings()
    with TestClient(create_app(settings, analyzer=FakeAnalyzer(settings.bot.knowledge_base), entity_nlp=None)) as c:
        store = c.app.state.services.store
        # What a crash leaves: the message committed (and acked), no scores, no answer.
        planned, _ = NewConversation.plan({})
        with store.session() as session, session.begin():
            store.create(session, planned, "Hi, I'm the bot.")
            store.append_customer(session, planned.id, "m1", "How do I reset my password?")
            store.append_customer(session, planned.id, "m2", "Do you ship to Canada?")
    for _ in range(2):  # the second start finds nothing left to answer
        app = create_app(settings, analyzer=FakeAnalyzer(settings.bot.knowledge_base), entity_nlp=None)
        with TestClient(app) as client:
            store = client.app.state.services.store
            for _ in range(100):
                if not store.unanswered():
                    break
                threading.Event().wait(0.05)
        stored = store.messages_after(planned.id)
        assert [(m.seq, m.sender) for m in stored] == [(1, "bot"), (2, "customer"), (3, "customer"), (4, "bot"),
                                                        (5, "bot")]  # fmt: skip
        assert all(m.analysis for m in stored if m.sender == "customer")
