"""The analysis worker: batches messages from concurrent conversations into one encoder pass, off the event loop."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from models.analysis import TurnAnalysis

BatchFunction = Callable[[Sequence[str]], list[TurnAnalysis]]
_Request = tuple[str, Future[TurnAnalysis]]


class AnalysisWorker:
    """A dedicated thread that gathers up to `max_batch` texts arriving within `max_wait_ms`
    of the first one and analyses them together; callers on the event loop only await."""

    def __init__(self, analyze_batch: BatchFunction, max_batch: int = 32, max_wait_ms: float = 3.0) -> None:
        self._analyze_batch = analyze_batch
        self._max_batch = max_batch
        self._max_wait = max_wait_ms / 1000.0
        self._requests: queue.Queue[_Request | None] = queue.Queue()  # None asks the thread to stop
        self._thread = threading.Thread(target=self._run, name="analysis-worker", daemon=True)
        self._thread.start()
        self.batches = 0  # how many encoder passes ran; read by benchmarks

    async def analyze(self, text: str) -> TurnAnalysis:
        return await asyncio.wrap_future(self.submit(text))

    def submit(self, text: str) -> Future[TurnAnalysis]:
        if not self._thread.is_alive():
            raise RuntimeError("the analysis worker has stopped")
        future: Future[TurnAnalysis] = Future()
        self._requests.put((text, future))
        return future

    def close(self) -> None:
        self._requests.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._requests.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self._max_wait
            stop = False
            while len(batch) < self._max_batch:
                remaining = deadline - time.monotonic()
                try:
                    item = self._requests.get(timeout=remaining) if remaining > 0 else self._requests.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._process(batch)
            if stop:
                return

    def _process(self, batch: list[_Request]) -> None:
        live = [(text, future) for text, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self._analyze_batch([text for text, _ in live])
        except Exception as error:  # every waiter learns of the failure; the worker keeps serving
            for _, future in live:
                future.set_exception(error)
            return
        self.batches += 1
        for (_, future), result in zip(live, results, strict=False):
            future.set_result(result)
