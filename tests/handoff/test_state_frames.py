"""The state frames a customer is sent: the dispatcher's wait refresh never repeats or revives an old state."""

from __future__ import annotations

import asyncio

import pytest

from detectors.pattern_similarity import EscalationBank
from handoff.agents import AgentDirectory
from handoff.config import HandoffSettings
from handoff.entities import EntityExtractor
from handoff.relay import LocalRelay, conversation_topic
from handoff.service import HandoffDeployment, HandoffService
from handoff.store import ConversationStore
from handoff.tickets import NewTicket
from handoff.writer import Writer


async def _no_embedding(texts: list[str]):  # publishing state never embeds anything
    raise AssertionError("not reached")


# Publishing state reads only the store and the queue; the packaging seams are never reached.
NO_DEPLOYMENT = HandoffDeployment(EntityExtractor(nlp=None), EscalationBank(dim=4), _no_embedding)


class RacedStore(ConversationStore):
    """A real store in which an agent's action lands right after the next read of a conversation's owner."""

    race = None

    def get(self, conversation_id):
        info = super().get(conversation_id)
        if self.race is not None:
            race, self.race = self.race, None
            race()
        return info


@pytest.fixture
def store(open_store):
    return open_store(RacedStore)


def service(store, relay):
    # Publishing state reads only the store and the queue; the packaging seams are never reached.
    return HandoffService(
        store,
        Writer(store.session),
        relay,
        HandoffSettings(teams={"general": []}),
        AgentDirectory(store),
        NO_DEPLOYMENT,
    )


def queued_chat(handoff, store):
    info, _ = store.start()
    ticket, _ = handoff.tickets.open(
        NewTicket(info.id, "normal", "orders", "explicit_request", "Asked for a person", {"summary": "x"}, 600.0, False)
    )
    return info.id, ticket.id


def drained(queue: asyncio.Queue) -> list[dict]:
    frames = []
    while not queue.empty():
        frames.append(queue.get_nowait())
    return frames


def test_the_wait_refresh_publishes_only_a_changed_wait_of_a_chat_still_queued(store):
    async def scenario():
        relay = LocalRelay()
        handoff = service(store, relay)
        cid, ticket_id = queued_chat(handoff, store)
        async with relay.subscribe(conversation_topic(cid)) as frames:
            await handoff.publish_state(cid, only_a_new_wait=True)
            first = drained(frames)
            await handoff.publish_state(cid, only_a_new_wait=True)  # nothing changed
            repeated = drained(frames)
            handoff.tickets.accept(ticket_id, "ana", "Ana")  # taken between the refresh's read and its publish
            await handoff.publish_state(cid, only_a_new_wait=True)
            after_take = drained(frames)
            await handoff.publish_state(cid)  # what accepting publishes
            announced = drained(frames)
        return first, repeated, after_take, announced

    first, repeated, after_take, announced = asyncio.run(scenario())
    assert [(f["state"], f["position"]) for f in first] == [("queued", 1)]
    assert repeated == []
    assert after_take == []
    assert announced == [{"type": "state", "state": "agent", "agent": "Ana"}]


def test_a_chat_taken_while_its_state_is_read_is_announced_with_its_agent_not_as_queued_at_position_0(store):
    async def scenario():
        handoff = service(store, LocalRelay())
        cid, ticket_id = queued_chat(handoff, store)
        store.race = lambda: handoff.tickets.accept(ticket_id, "ana", "Ana")
        return await handoff.state_frame(cid)

    assert asyncio.run(scenario()) == {"type": "state", "state": "agent", "agent": "Ana"}
