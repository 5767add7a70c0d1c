"""The customer socket against frames a well-behaved widget never sends: each gets an error frame (or, past the
frame limit, a 1009 close), and the socket goes on acknowledging valid messages."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bot.protocol import MAX_CLIENT_MSG_ID, MAX_SEQ, max_frame_bytes
from tests.bot.chat_client import hello, is_type, say, store_of, until

EMOJI = "\U0001f600"


def opened(ws) -> str:
    """Say hello and read up to the state frame; the conversation's id."""
    cid = hello(ws)["conversation_id"]
    until(ws, is_type("state"))
    return cid


def nested(depth: int) -> str:
    return '{"type": "message", "client_msg_id": "deep", "text": ' + "[" * depth + "]" * depth + "}"


HOSTILE: dict[str, Callable[..., None]] = {
    # JSON escapes are ASCII on the wire: the lone surrogate appears only once json.loads decodes the text.
    "lone surrogate in the text": lambda ws: ws.send_text(
        '{"type": "message", "client_msg_id": "s1", "text": "broken \\ud800 text"}'
    ),
    "lone low surrogate in the id": lambda ws: ws.send_text(
        '{"type": "message", "client_msg_id": "\\udc00", "text": "hello"}'
    ),
    "binary frame": lambda ws: ws.send_bytes(b'{"type": "message", "client_msg_id": "b1", "text": "hi"}'),
    "5,000 levels deep": lambda ws: ws.send_text(nested(5000)),
    "900 levels deep, within json's own recursion limit": lambda ws: ws.send_text(nested(900)),
    "NaN": lambda ws: ws.send_text('{"type": "message", "client_msg_id": "n1", "text": NaN}'),
}
CODES = {
    "lone surrogate in the text": "bad_unicode",
    "lone low surrogate in the id": "bad_unicode",
    "binary frame": "binary_frame",
    "5,000 levels deep": "too_deep",
    "900 levels deep, within json's own recursion limit": "too_deep",
    "NaN": "bad_json",
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_frame_gets_an_error_frame_and_the_socket_stays_usable(client, case: str) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        cid = opened(ws)
        HOSTILE[case](ws)
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == CODES[case] and error["message"]
        msg_id = say(ws, "hello there")
        ack, _ = until(ws, is_type("ack"))
        assert ack == {"type": "ack", "client_msg_id": msg_id, "seq": 2}  # the hostile frame stored nothing
        assert [m.client_msg_id for m in store_of(client).messages_after(cid) if m.sender == "customer"] == [msg_id]


def test_a_hostile_frame_before_hello_leaves_hello_possible(client) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_text(
            '{"type": "hello", "conversation_id": null, "resume_token": null, "last_seq": 0,'
            ' "customer": {"name": "Ada \\ud800"}}'
        )
        assert ws.receive_json()["code"] == "bad_unicode"
        ws.send_bytes(b"\x00\xff")
        assert ws.receive_json()["code"] == "binary_frame"
        assert hello(ws, customer={"name": "Ada"})["resumed"] is False


def finished_conversation(client) -> tuple[str, str, int]:
    """A conversation with a greeting, a question and the bot's answer, left; (id, token, its last seq)."""
    with client.websocket_connect("/ws/chat") as ws:
        welcome = hello(ws)
        say(ws, "How do I reset my password?")
        until(ws, lambda f: f.get("type") == "message" and f.get("sender") == "bot" and f["seq"] > 1)
    cid = welcome["conversation_id"]
    return cid, welcome["resume_token"], store_of(client).messages_after(cid)[-1].seq


@pytest.mark.parametrize("beyond", [1, 1000, MAX_SEQ])
def test_last_seq_beyond_the_stored_end_is_taken_as_the_end(client, beyond: int) -> None:
    cid, token, end = finished_conversation(client)
    with client.websocket_connect("/ws/chat") as ws:
        assert hello(ws, cid, token, last_seq=max(end + 1, beyond))["resumed"] is True
        _, replayed = until(ws, is_type("state"))
        assert replayed == []  # nothing to replay: the client has seen everything there is
        msg_id = say(ws, "Do you ship to Canada?")
        # Before the clamp, every message with seq <= last_seq was dropped as already shown: the socket went silent.
        mine, _ = until(ws, lambda f: f.get("type") == "message" and f.get("client_msg_id") == msg_id)
        assert mine["seq"] == end + 1
        answer, _ = until(ws, lambda f: f.get("type") == "message" and f.get("sender") == "bot")
        assert answer["seq"] > end + 1


@pytest.mark.parametrize("last_seq", [10**20, MAX_SEQ + 1, 2**63])
def test_an_absurd_last_seq_is_refused_before_it_reaches_sql(client, last_seq: int) -> None:
    cid, token, end = finished_conversation(client)
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "conversation_id": cid, "resume_token": token, "last_seq": last_seq})
        error = ws.receive_json()
        assert error["code"] == "invalid_frame" and "last_seq" in error["message"]
        assert hello(ws, cid, token, last_seq=end - 1)["resumed"] is True
        _, replayed = until(ws, is_type("state"))
        assert [f["seq"] for f in replayed] == [end]
        say(ws, "thanks")
        assert until(ws, is_type("ack"))[0]["seq"] == end + 1


def maximal_message(text_chars: int) -> str:
    """The largest legal message frame: every character of the text and the id an escaped surrogate pair."""
    return json.dumps({"type": "message", "client_msg_id": EMOJI * MAX_CLIENT_MSG_ID, "text": EMOJI * text_chars})


def test_a_maximal_legal_message_fits_the_derived_frame_limit(client) -> None:
    frame = maximal_message(2000)
    assert len(frame) > 24_000  # the 2,000 emoji that the old 16 KiB limit closed with 1009
    with client.websocket_connect("/ws/chat") as ws:
        opened(ws)
        ws.send_text(frame)
        ack, _ = until(ws, is_type("ack"))
        assert ack["client_msg_id"] == EMOJI * MAX_CLIENT_MSG_ID


def test_the_frame_limit_follows_max_text_chars(make_app) -> None:
    with TestClient(make_app(server={"max_text_chars": 10})) as client, client.websocket_connect("/ws/chat") as ws:
        opened(ws)
        ws.send_text(maximal_message(10))
        assert until(ws, is_type("ack"))[0]["seq"] == 2
        ws.send_text(maximal_message(11))  # fits the frame limit's whitespace slack: refused for its text
        assert until(ws, is_type("error"))[0]["code"] == "text_too_long"
        ws.send_text(" " * (max_frame_bytes(10) + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 1009
