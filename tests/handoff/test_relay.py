import asyncio

from handoff.relay import RESYNC, LocalRelay


def test_subscribers_of_a_topic_receive_its_events_only():
    async def main():
        relay = LocalRelay()
        async with relay.subscribe("a") as first, relay.subscribe("a") as second, relay.subscribe("b") as other:
            await relay.publish("a", {"n": 1})
            assert first.get_nowait() == {"n": 1} and second.get_nowait() == {"n": 1}
            assert other.empty()
        assert relay.subscriber_count("a") == 0

    asyncio.run(main())


def test_a_subscriber_that_falls_behind_is_told_to_resync():
    async def main():
        relay = LocalRelay(queue_size=2)
        async with relay.subscribe("a") as queue:
            for n in range(5):
                await relay.publish("a", {"n": n})
            drained = [queue.get_nowait() for _ in range(queue.qsize())]
            assert drained == [RESYNC]
            await relay.publish("a", {"n": 5})
            assert queue.get_nowait() == {"n": 5}  # live again after the resync

    asyncio.run(main())
