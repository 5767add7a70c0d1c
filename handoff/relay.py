"""The live-event relay: publish an event on a topic, and every subscriber of that topic receives it.

In-process by default. Several server processes would share a Redis relay with the same interface.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

Event = dict[str, Any]
# Told to a subscriber that fell behind: its backlog was dropped, so it must re-read from the store.
RESYNC: Event = {"type": "resync"}


class EventRelay(Protocol):
    async def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[asyncio.Queue[Event]]: ...


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class LocalRelay:
    """Fan-out through asyncio queues inside one process."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, topic: str, event: Event) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A subscriber that stopped reading must not stall everyone else. Its backlog is
                # replaced by RESYNC; messages live in the store, so it re-reads them by sequence number.
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(RESYNC)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))
