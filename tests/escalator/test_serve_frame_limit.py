"""uvicorn, run with the options `escalator serve` gives it, agrees with the app on the frame limit: the largest legal
message reaches the app and is acknowledged, and a frame one byte larger is closed with 1009."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bot.config import ServerSettings
from bot.protocol import MAX_CLIENT_MSG_ID
from escalator.cli import uvicorn_options

EMOJI = "\U0001f600"


@pytest.fixture
def served(make_app) -> Iterator[str]:
    """The app on the fake analyzer behind a real uvicorn on a free port, in a thread; its websocket URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(make_app(), **{**uvicorn_options(ServerSettings()), "log_level": "warning"}))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"ws://127.0.0.1:{listener.getsockname()[1]}/ws/chat"
    server.should_exit = True
    thread.join(timeout=30)
    listener.close()


def open_chat(ws) -> None:
    ws.send(json.dumps({"type": "hello", "conversation_id": None, "resume_token": None, "last_seq": 0}))
    while json.loads(ws.recv(timeout=30))["type"] != "state":
        pass


def test_the_transport_passes_the_largest_legal_message_and_closes_a_larger_frame(served: str) -> None:
    limit = ServerSettings().max_frame_bytes
    largest = json.dumps({"type": "message", "client_msg_id": EMOJI * MAX_CLIENT_MSG_ID, "text": EMOJI * 2000})
    padded = largest[:-1] + " " * (limit - len(largest)) + "}"  # exactly at the limit, whitespace filling the slack
    assert len(padded.encode("utf-8")) == limit
    with connect(served) as ws:
        open_chat(ws)
        ws.send(padded)
        frames = [json.loads(ws.recv(timeout=30)) for _ in range(2)]
        assert {"type": "ack", "client_msg_id": EMOJI * MAX_CLIENT_MSG_ID, "seq": 2} in frames
        ws.send(padded + " ")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_serve_gives_uvicorn_the_frame_limit_derived_from_the_text_limit() -> None:
    small, large = ServerSettings(max_text_chars=10), ServerSettings(max_text_chars=4000)
    assert uvicorn_options(small)["ws_max_size"] == small.max_frame_bytes
    assert uvicorn_options(large)["ws_max_size"] == large.max_frame_bytes > small.max_frame_bytes
