"""The customer websocket, /ws/chat: the protocol of docs/protocol.md on top of Conversations."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from agent_console.origins import origin_allowed
from bot.config import ServerSettings
from bot.context import chat
from bot.conversations import Conversations, Opened, Refused
from bot.protocol import Hello, Message, ProtocolError, Typing, frame_size, parse_frame, resume_point
from bot.rate_limit import TokenBucket
from handoff.relay import RESYNC, conversation_topic

logger = logging.getLogger(__name__)

CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
HELLO_TIMEOUT_S = 15.0
TYPING_EVERY_S = 1.0  # relay at most one typing frame a second per connection

router = APIRouter()


@router.websocket("/ws/chat")
async def customer_socket(websocket: WebSocket) -> None:
    context = chat(websocket)
    settings = context.server
    if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host", ""), settings.allowed_origins):
        # Closing before accept refuses the handshake (HTTP 403).
        await websocket.close(code=CLOSE_POLICY)
        return
    await websocket.accept()
    connection = CustomerConnection(websocket, context.conversations, settings)
    try:
        await connection.serve()
    except WebSocketDisconnect:
        pass
    finally:
        await connection.stop()


class CustomerConnection:
    """One customer socket: a reader of client frames and a single writer of server frames."""

    def __init__(self, websocket: WebSocket, conversations: Conversations, settings: ServerSettings) -> None:
        self.websocket = websocket
        self.conversations = conversations
        self.settings = settings
        self.id = uuid.uuid4().hex
        self.bucket = TokenBucket(settings.rate_burst, settings.rate_per_second)
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.opened: Opened | None = None
        self.last_sent = 0
        self._last_typing = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    async def serve(self) -> None:
        self._tasks.append(asyncio.create_task(self._write()))
        hello = await self._await_hello()
        if hello is None:
            return
        opened = await self.conversations.open(
            hello.conversation_id,
            hello.resume_token,
            hello.customer.model_dump(exclude_none=True) if hello.customer else {},
        )
        self.opened = opened
        self.last_sent = resume_point(hello.last_seq, opened.info.last_seq) if opened.resumed else 0
        await self.outbox.put(
            {
                "type": "welcome",
                "conversation_id": opened.id,
                "resume_token": opened.token,
                "state": opened.info.state.value,
                "resumed": opened.resumed,
            }
        )
        subscribed = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._forward(subscribed)))
        await subscribed.wait()
        address = self.websocket.client.host if self.websocket.client else ""
        while True:
            frame = await self._next_frame()
            if frame is None:
                continue
            if isinstance(frame, Message):
                try:
                    message, _ = await self.conversations.receive(opened, frame.client_msg_id, frame.text, address)
                except Refused as refused:
                    await self.outbox.put({**refused.frame(), "client_msg_id": frame.client_msg_id})
                    continue
                await self.outbox.put({"type": "ack", "client_msg_id": frame.client_msg_id, "seq": message.seq})
            elif isinstance(frame, Typing):
                now = time.monotonic()
                if now - self._last_typing >= TYPING_EVERY_S and opened.planned is None:
                    self._last_typing = now
                    await self.conversations.publish(
                        opened.id, {"type": "typing", "sender": "customer", "_origin": self.id}
                    )
            else:
                await self.outbox.put(ProtocolError("hello_repeated", "The conversation is already open.").frame())

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _await_hello(self) -> Hello | None:
        deadline = time.monotonic() + HELLO_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                await self._close(CLOSE_POLICY, "no hello")
                return None
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the session's cancellation.
                async with asyncio.timeout(remaining):
                    frame = await self._next_frame()
            except TimeoutError:
                await self._close(CLOSE_POLICY, "no hello")
                return None
            if isinstance(frame, Hello):
                return frame
            if frame is not None:
                await self.outbox.put(ProtocolError("hello_required", "Send a hello frame first.").frame())

    async def _next_frame(self) -> Hello | Message | Typing | None:
        """The next valid frame, or None after answering a bad one with an error frame."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        # A binary frame carries "bytes" instead of "text": parse_frame answers it with an error frame.
        raw: str | bytes = message["text"] if message.get("text") is not None else message.get("bytes") or b""
        if frame_size(raw) > self.settings.max_frame_bytes:
            await self._close(CLOSE_TOO_BIG, "frame too large")
            raise WebSocketDisconnect(CLOSE_TOO_BIG)
        try:
            frame = parse_frame(raw, self.settings.max_text_chars)
        except ProtocolError as error:
            frame = None
            problem: ProtocolError | None = error
        else:
            if isinstance(frame, Typing):
                return frame
            problem = None
        wait = self.bucket.take()
        if wait > 0:
            error_frame = ProtocolError("rate_limited", "Too many messages; slow down.").frame()
            await self.outbox.put({**error_frame, "retry_after": math.ceil(wait * 10) / 10})
            return None
        if problem is not None:
            await self.outbox.put(problem.frame())
        return frame

    async def _forward(self, subscribed: asyncio.Event) -> None:
        """Send what the client missed, then live events, in seq order with no gaps and no repeats."""
        assert self.opened is not None
        opened = self.opened
        async with self.conversations.relay.subscribe(conversation_topic(opened.id)) as events:
            # Subscribed before reading the store, so nothing published in between is missed.
            subscribed.set()
            greeting = self.conversations.greeting_frame(opened)
            if greeting is not None:  # a new conversation: nothing is stored yet
                self.last_sent = greeting["seq"]
                await self.outbox.put(greeting)
            else:
                await self._catch_up()
            await self.outbox.put(await self.conversations.state_frame(opened))
            while True:
                event = await events.get()
                if event is RESYNC or event.get("type") == "resync":
                    await self._catch_up()
                elif event.get("type") == "message":
                    if event["seq"] > self.last_sent + 1:
                        await self._catch_up()
                    if event["seq"] == self.last_sent + 1:
                        self.last_sent = event["seq"]
                        await self.outbox.put(event)
                elif event.get("_origin") != self.id:
                    await self.outbox.put({k: v for k, v in event.items() if not k.startswith("_")})

    async def _catch_up(self) -> None:
        assert self.opened is not None
        missed = await asyncio.to_thread(self.conversations.store.messages_after, self.opened.id, self.last_sent)
        for message in missed:
            await self.outbox.put(message.to_frame())
            self.last_sent = message.seq

    async def _write(self) -> None:
        while True:
            frame = await self.outbox.get()
            await self.websocket.send_text(json.dumps(frame))

    async def _close(self, code: int, reason: str) -> None:
        if self.websocket.application_state == WebSocketState.CONNECTED:
            await self.websocket.close(code=code, reason=reason)
