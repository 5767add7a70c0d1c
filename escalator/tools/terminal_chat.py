"""`escalator chat`: a terminal client of the customer protocol, for trying the bot."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

LABELS = {"customer": "you", "bot": "bot", "system": "system"}


def run_terminal_chat(url: str) -> int:
    try:
        connection = connect(url)
    except OSError as error:
        print(f"escalator chat: cannot connect to {url}: {error}", file=sys.stderr)
        return 1
    with connection:
        connection.send(json.dumps({"type": "hello", "conversation_id": None, "resume_token": None, "last_seq": 0}))
        printer = threading.Thread(target=_print_frames, args=(connection,), daemon=True)
        printer.start()
        print("Type a message and press Enter; Ctrl-D quits.")
        for line in sys.stdin:
            text = line.strip()
            if text:
                connection.send(json.dumps({"type": "message", "client_msg_id": uuid.uuid4().hex, "text": text}))
    return 0


def _print_frames(connection: ClientConnection) -> None:
    try:
        for raw in connection:
            line = describe(json.loads(raw))
            if line:
                print(line, flush=True)
    except ConnectionClosed as closed:
        print(f"[connection closed: {closed.rcvd.code if closed.rcvd else 'no code'}]", flush=True)


def describe(frame: dict[str, Any]) -> str:
    """One line for a server frame, or '' for frames not worth showing."""
    kind = frame.get("type")
    if kind == "message":
        if frame.get("sender") == "customer":
            return ""
        who = frame.get("author") or LABELS.get(frame.get("sender", ""), frame.get("sender", "?"))
        return f"{who}: {frame.get('text', '')}"
    if kind == "state":
        state = frame.get("state")
        if state == "queued":
            return f"[waiting for a person: position {frame.get('position')}, about {frame.get('eta_s')} s]"
        if state == "agent":
            return f"[{frame.get('agent') or 'an agent'} joined the chat]"
        return f"[chat is now with: {state}]"
    if kind == "error":
        return f"[error {frame.get('code')}: {frame.get('message')}]"
    if kind == "welcome":
        return f"[connected to conversation {frame.get('conversation_id')}]"
    return ""
