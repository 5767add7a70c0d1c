from bot.rate_limit import TokenBucket


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_burst_then_wait_then_refill():
    clock = Clock()
    bucket = TokenBucket(burst=3, rate=2.0, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == 0.5  # one token takes half a second at 2 per second
    clock.now += 0.5
    assert bucket.take() == 0.0
    clock.now += 100
    assert [bucket.take() for _ in range(4)][-1] > 0  # never more than the burst
