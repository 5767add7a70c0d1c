"""The real server process over real sockets: pages, the websocket, its limits, and durability under SIGKILL."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.bot.server_process import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, model_cache):
    process = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'escalator.db'}", model_cache).start()
    yield process
    process.stop()


def hello(ws, **fields):
    ws.send(json.dumps({"type": "hello", "conversation_id": None, "resume_token": None, "last_seq": 0, **fields}))
    return json.loads(ws.recv(timeout=30))


def test_pages_docs_and_websocket_answer(server):
    assert "Northwind" in httpx.get(f"{server.base}/").text
    assert "escalator" in httpx.get(f"{server.base}/widget.js").text.lower()
    docs = httpx.get(f"{server.base}/docs", follow_redirects=True)
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text and "https://" not in docs.text
    assert "/docs/openapi.json" in httpx.get(f"{server.base}/docs/swagger-initializer.js").text
    assert "/api/agent/tickets/{ticket_id}/accept" in httpx.get(f"{server.base}/openapi.json").text
    with connect(server.ws_url) as ws:
        assert hello(ws)["type"] == "welcome"
        ws.send(json.dumps({"type": "message", "client_msg_id": "p1", "text": "how do I reset my password?"}))
        frames = []
        while not any(f.get("sender") == "bot" and f.get("seq", 0) > 2 for f in frames):
            frames.append(json.loads(ws.recv(timeout=30)))
        assert {"type": "ack", "client_msg_id": "p1", "seq": 2} in frames


def test_the_server_closes_an_oversized_frame_with_1009(server):
    with connect(server.ws_url, max_size=None) as ws:
        hello(ws)
        ws.send(json.dumps({"type": "message", "client_msg_id": "big", "text": "x" * 40000}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=30)
        assert closed.value.rcvd.code == 1009


def test_a_foreign_origin_is_refused_at_the_handshake(server):
    with pytest.raises(InvalidStatus) as refused:
        connect(server.ws_url, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    with connect(server.ws_url, origin=server.base) as ws:
        assert hello(ws)["type"] == "welcome"


def test_every_acknowledged_message_survives_sigkill_exactly_once(server, tmp_path, model_cache):
    acked: dict[str, int] = {}
    with connect(server.ws_url) as ws:
        cid = hello(ws)["conversation_id"]
        ids = [uuid.uuid4().hex for _ in range(40)]
        for n, msg_id in enumerate(ids):
            ws.send(json.dumps({"type": "message", "client_msg_id": msg_id, "text": f"note {n}: thanks"}))
        while len(acked) < len(ids):
            frame = json.loads(ws.recv(timeout=30))
            if frame["type"] == "ack":
                acked[frame["client_msg_id"]] = frame["seq"]
        server.kill()  # right after the last ack, no graceful shutdown

    restarted = ServerProcess(tmp_path, server.env["ESCALATOR_DATABASE__URL"], model_cache).start()
    try:
        engine = create_engine(server.env["ESCALATOR_DATABASE__URL"])
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT client_msg_id, seq FROM messages WHERE conversation_id = :cid AND sender = 'customer'"),
                {"cid": cid},
            ).all()
        engine.dispose()
        stored = {}
        for client_msg_id, seq in rows:
            assert client_msg_id not in stored, "a message was stored twice"
            stored[client_msg_id] = seq
        assert {k: stored.get(k) for k in acked} == acked
        # After the restart the conversation resumes and a retry of an acked message is still deduplicated.
        with connect(restarted.ws_url) as ws:
            ws.send(json.dumps({"type": "hello", "conversation_id": cid, "resume_token": "wrong", "last_seq": 0}))
            assert json.loads(ws.recv(timeout=30))["resumed"] is False
    finally:
        restarted.stop()


def test_messages_are_acked_while_the_models_load_and_answered_once_they_have(tmp_path, model_cache):
    server = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'escalator.db'}", model_cache).start(until="/healthz")
    try:
        loading = httpx.get(f"{server.base}/readyz")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        with connect(server.ws_url) as ws:
            assert hello(ws)["type"] == "welcome"
            ws.send(json.dumps({"type": "message", "client_msg_id": "early", "text": "how do I reset my password?"}))
            frames = [json.loads(ws.recv(timeout=30))]
            while frames[-1].get("type") != "ack":
                frames.append(json.loads(ws.recv(timeout=30)))
            assert httpx.get(f"{server.base}/readyz").status_code == 503  # acked before the models were in
            while not (frames[-1].get("sender") == "bot" and frames[-1].get("seq", 0) > 2):
                frames.append(json.loads(ws.recv(timeout=120)))
        ready = httpx.get(f"{server.base}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    finally:
        server.stop()
