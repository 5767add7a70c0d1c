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
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Session], T]

URGENT, NORMAL, STOP = 0, 1, 2  # queue priorities: acks first; stopping only after everything queued


class WriterStopped(RuntimeError):
    """A write was submitted after the writer was closed."""


@dataclass(order=True, slots=True)
class _Item:
    priority: int
    order: int  # first in, first out within a priority
    job: Job[Any] | None = field(compare=False)
    future: Future[Any] | None = field(compare=False)


class Writer:
    """Runs write jobs on one thread, `max_group` of them per transaction.

    The cap bounds how long an ack can wait behind a group already running (16 jobs: a few milliseconds of work and
    one fsync, against some 1.5 ms per fsync on its own); beyond it, larger groups save little."""

    def __init__(self, sessions: Callable[[], Session], max_group: int = 16) -> None:
        self._sessions = sessions
        self._max_group = max_group
        self._queue: queue.PriorityQueue[_Item] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        self.commits = 0  # transactions committed; read by benchmarks and tests
        self.jobs = 0  # jobs that ran in them
        self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
        self._thread.start()

    async def write(self, job: Job[T], *, urgent: bool = False) -> T:
        """Run `job(session)` in the next group's transaction; return its result once that has committed."""
        return await asyncio.wrap_future(self.submit(job, urgent=urgent))

    def submit(self, job: Job[T], *, urgent: bool = False) -> Future[T]:
        if self._closed:
            raise WriterStopped("the database writer has stopped")
        future: Future[T] = Future()
        self._queue.put(_Item(URGENT if urgent else NORMAL, next(self._order), job, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop."""
        if not self._closed:
            self._closed = True
            self._queue.put(_Item(STOP, next(self._order), None, None))
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < self._max_group and group[-1].job is not None:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            jobs = [item for item in group if item.job is not None]
            if jobs:
                self._commit_group(jobs)
            if group[-1].job is None:
                return

    def _commit_group(self, items: list[_Item]) -> None:
        live = [item for item in items if item.future is not None and item.future.set_running_or_notify_cancel()]
        if len(live) == 1:
            self._commit_alone(live[0])
        if len(live) <= 1:
            return
        try:
            with self._sessions() as session, session.begin():
                results = [self._job(item)(session) for item in live]
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
                result = self._job(item)(session)
        except Exception as error:  # rolled back; the caller gets the exception
            _settle(item, None, error)
            return
        self.commits += 1
        self.jobs += 1
        _settle(item, result, None)

    @staticmethod
    def _job(item: _Item) -> Job[Any]:
        assert item.job is not None  # only jobs reach here; the stop marker has none
        return item.job


def _settle(item: _Item, result: Any, error: BaseException | None) -> None:
    assert item.future is not None
    if error is not None:
        item.future.set_exception(error)
    else:
        item.future.set_result(result)
