import asyncio
import threading

import numpy as np
import pytest

from models.analysis import TurnAnalysis
from models.worker import AnalysisWorker


def fake_batch(calls):
    def analyze(texts):
        calls.append(list(texts))
        return [TurnAnalysis(t, np.zeros(2, np.float32), 0.0, 0.0, (), 0.0) for t in texts]

    return analyze


def test_concurrent_requests_share_one_pass():
    calls = []
    gate = threading.Event()

    def slow_first(texts):
        gate.wait(5)
        return fake_batch(calls)(texts)

    worker = AnalysisWorker(slow_first, max_batch=32, max_wait_ms=50)
    try:

        async def main():
            futures = [asyncio.ensure_future(worker.analyze(f"m{i}")) for i in range(10)]
            await asyncio.sleep(0)  # one turn of the loop: every analyze() has submitted its text
            gate.set()
            return await asyncio.gather(*futures)

        results = asyncio.run(main())
    finally:
        worker.close()
    assert [r.text for r in results] == [f"m{i}" for i in range(10)]
    assert sum(len(c) for c in calls) == 10
    assert len(calls) < 10  # batched, not one pass per message


def test_batch_size_is_capped():
    calls = []
    worker = AnalysisWorker(fake_batch(calls), max_batch=4, max_wait_ms=20)
    try:
        futures = [worker.submit(str(i)) for i in range(10)]
        assert [f.result(5).text for f in futures] == [str(i) for i in range(10)]
    finally:
        worker.close()
    assert max(len(c) for c in calls) <= 4


def test_a_failing_batch_fails_its_callers_and_the_worker_goes_on():
    calls = []
    good = fake_batch(calls)

    def flaky(texts):
        if "boom" in texts:
            raise RuntimeError("model exploded")
        return good(texts)

    worker = AnalysisWorker(flaky, max_batch=1, max_wait_ms=0)
    try:
        with pytest.raises(RuntimeError, match="exploded"):
            worker.submit("boom").result(5)
        assert worker.submit("fine").result(5).text == "fine"
    finally:
        worker.close()


def test_closed_worker_refuses_work():
    worker = AnalysisWorker(fake_batch([]))
    worker.close()
    with pytest.raises(RuntimeError, match="stopped"):
        worker.submit("late")
