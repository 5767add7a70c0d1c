"""The writer: one thread owns the chat path's writes and commits them in groups.

Why: an ack needs only its message committed, and a commit costs one fsync. Jobs that arrive while a commit is
running are committed together at the next one, so under load an ack costs a share of one fsync instead of
queueing behind reads, bot replies and scores in a shared thread pool. Acks jump the queue (`urgent`).

A group runs optimistically, with no savepoint per job (two more statements each, a fifth of the writer's time
under load). If any job raises, the group is rolled back and each job is run again in a transaction of its own,
so a bad job fails alone and its neighbours commit. Jobs therefore touch nothing but the session.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Session], T]


URGENT_GROUP = 16  # acks per transaction at most


class WriterStopped(RuntimeError):
    """A write was submitted after the writer was closed."""


@dataclass(slots=True)
class _Item:
    job: Job[Any]
    future: Future[Any]


class Writer:
    """Runs write jobs on one thread in two lanes: urgent jobs (acks) go first, up to `URGENT_GROUP` of them per
    transaction; the others (answers, scores, tickets) up to `max_group`.

    The cap on the others bounds how long an ack waits behind a group already running: under load a job takes about
    a millisecond and a commit about 1.5. At saturation (bench.websocket_load, 100 chats) caps of 16 (before acks had
    a lane), 8, 4, 2 and 1 gave ack p50/p99 of 54/166, 30/111, 17/68-74, 11-13/53-75 and 8/53 ms, and answered
    112-121 messages/s at 4 against 100-113 at 2 and 1: 4 keeps acks quick without spending the pass's throughput on
    fsyncs. Acks are cheap, so they share freely.
    """

    def __init__(self, sessions: Callable[[], Session], max_group: int = 4) -> None:
        self._sessions = sessions
        self._max_group = max_group
        self._urgent: deque[_Item] = deque()
        self._normal: deque[_Item] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self.commits = 0  # transactions committed; read by benchmarks and tests
        self.jobs = 0  # jobs that ran in them
        self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
        self._thread.start()

    async def write(self, job: Job[T], *, urgent: bool = False) -> T:
        """Run `job(session)` in the next group's transaction; return its result once that has committed."""
        return await asyncio.wrap_future(self.submit(job, urgent=urgent))

    def submit(self, job: Job[T], *, urgent: bool = False) -> Future[T]:
        future: Future[T] = Future()
        with self._wake:
            if self._closed:
                raise WriterStopped("the database writer has stopped")
            (self._urgent if urgent else self._normal).append(_Item(job, future))
            self._wake.notify()
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not (self._urgent or self._normal or self._closed):
                    self._wake.wait()
                lane, cap = (self._urgent, URGENT_GROUP) if self._urgent else (self._normal, self._max_group)
                group = [lane.popleft() for _ in range(min(len(lane), cap))]
            if not group:  # closed, and nothing left
                return
            self._commit_group(group)

    def _commit_group(self, items: list[_Item]) -> None:
        live = [item for item in items if item.future.set_running_or_notify_cancel()]
        if len(live) == 1:
            self._commit_alone(live[0])
        if len(live) <= 1:
            return
        try:
            with self._sessions() as session, session.begin():
                results = [item.job(session) for item in live]
        except Exception as error:
            logger.debug("a group of %d writes failed (%r); committing each alone", len(live), error)
            for item in live:
                self._commit_alone(item)
            return
        self.commits += 1
        self.jobs += len(live)
        for item, result in zip(live, results, strict=True):
            _settle(item, result, None)

    def _commit_alone(self, item: _Item) -> None:
        try:
            with self._sessions() as session, session.begin():
                result = item.job(session)
        except Exception as error:  # rolled back; the caller gets the exception
            _settle(item, None, error)
            return
        self.commits += 1
        self.jobs += 1
        _settle(item, result, None)


def _settle(item: _Item, result: Any, error: BaseException | None) -> None:
    if error is not None:
        item.future.set_exception(error)
    else:
        item.future.set_result(result)
