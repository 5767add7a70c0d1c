"""The dispatcher's wait: woken early, or after its interval, and always stoppable."""

from __future__ import annotations

import asyncio
import time

from handoff.service import woken_or_elapsed


def test_returns_as_soon_as_the_event_is_set():
    async def scenario():
        event = asyncio.Event()
        asyncio.get_running_loop().call_later(0.01, event.set)
        started = time.monotonic()
        await woken_or_elapsed(event, 30)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 5


def test_returns_after_the_interval_when_nobody_wakes_it():
    async def scenario():
        event = asyncio.Event()
        await woken_or_elapsed(event, 0.01)
        return event.is_set()

    assert asyncio.run(scenario()) is False


def test_a_cancellation_that_lands_with_the_wake_is_not_lost():
    # The race that hung a shutdown: asyncio.wait_for on 3.11 returns normally here instead of raising.
    async def scenario():
        event = asyncio.Event()
        waiting = asyncio.create_task(woken_or_elapsed(event, 30))
        await asyncio.sleep(0)  # one turn of the loop: the task is now waiting on the event
        event.set()
        waiting.cancel()
        try:
            await waiting
        except asyncio.CancelledError:
            return "cancelled"
        return "swallowed"

    assert asyncio.run(scenario()) == "cancelled"
