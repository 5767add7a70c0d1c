"""The customer's side of a conversation: open or resume it, take messages, answer or hand over."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict
from typing import Any

from bot.pipeline import Assessment, Pipeline
from detectors.records import BotReplyRecord
from detectors.types import Role, Turn
from handoff.ownership import Owner
from handoff.relay import EventRelay, conversation_topic
from handoff.service import HandoffService
from handoff.store import (
    BotMayNotSpeak,
    ConversationInfo,
    ConversationStore,
    StoredMessage,
)
from models.analysis import TurnAnalysis

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again in a moment."


class Conversations:
    """Persist first, acknowledge, then let the pipeline answer; every change goes out on the relay."""

    def __init__(
        self,
        store: ConversationStore,
        relay: EventRelay,
        pipeline: Pipeline,
        handoff: HandoffService,
        greeting: str = "",
        history_cache_size: int = 5000,
    ) -> None:
        self.store = store
        self.relay = relay
        self.pipeline = pipeline
        self.handoff = handoff
        self.greeting = greeting
        self._history: OrderedDict[str, list[Turn]] = OrderedDict()
        self._history_cache_size = history_cache_size
        # Weak values: a conversation's lock lives only while a turn of it is being answered.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._tasks: set[asyncio.Task[None]] = set()
        handoff.on_return(self.start_afresh)

    async def open(
        self, conversation_id: str | None, token: str | None, customer: dict[str, Any]
    ) -> tuple[ConversationInfo, str, bool]:
        """Resume the conversation if the token matches, else start a new one; return (info, token, resumed)."""
        if conversation_id:
            info = await asyncio.to_thread(self.store.resume, conversation_id, token)
            if info is not None:
                if customer:
                    await asyncio.to_thread(self.store.update_customer, info.id, customer)
                return info, token or "", True
        info, token = await asyncio.to_thread(self.store.start, customer)
        if self.greeting:
            await asyncio.to_thread(self.store.add_message, info.id, "bot", self.greeting)
            info = await asyncio.to_thread(self.store.get, info.id)
        return info, token, False

    async def receive(self, conversation_id: str, client_msg_id: str, text: str) -> tuple[StoredMessage, bool]:
        """Commit the customer's message (once per client_msg_id) and start answering it in the background."""
        message, created = await asyncio.to_thread(
            self.store.add_customer_message, conversation_id, client_msg_id, text
        )
        if created:
            await self.publish(conversation_id, message.to_frame())
            task = asyncio.create_task(self._respond(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return message, created

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        await self.relay.publish(conversation_topic(conversation_id), event)

    async def state_frame(self, conversation_id: str) -> dict[str, Any]:
        return await self.handoff.state_frame(conversation_id)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for answers in progress (used at shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _respond(self, message: StoredMessage) -> None:
        # One turn at a time per conversation, so answers come in the order the questions did.
        lock = self._locks.setdefault(message.conversation_id, asyncio.Lock())
        async with lock:
            try:
                await self._answer(message)
            except Exception:
                logger.exception("answering conversation %s failed", message.conversation_id)
                await self._say(message.conversation_id, SORRY)

    async def _answer(self, message: StoredMessage) -> None:
        cid = message.conversation_id
        info = await asyncio.to_thread(self.store.get, cid)
        if info.state == Owner.CLOSED:
            # The customer came back to a resolved chat: the bot picks it up again.
            await asyncio.to_thread(self.store.change_owner, cid, Owner.BOT, "The customer wrote again.", "customer")
            await self.handoff.publish_state(cid)
            self.forget(cid)
        elif info.state != Owner.BOT:
            # A person owns it, or it waits for one: the message reached them on the relay. It is still
            # scored, for the agent's sentiment chart and for tuning, but nothing acts on the scores.
            await self._score(message)
            return
        if await self.handoff.take_contact(cid, message.text):
            return  # nobody is in, and this was the customer leaving their details
        history, assessment = await self._score(message)
        if assessment.reply is None:
            escalation = await self.handoff.escalate(cid, assessment.decision, history)
            if escalation.created or not escalation.offline:
                return
            # Nobody is in and the customer was already told: the bot stays available and answers what it can.
            assessment = self.pipeline.answer_anyway(assessment, history)
        reply = assessment.reply
        said = BotReplyRecord(reply.intent, round(reply.confidence, 4), reply.offers_person)
        sent = await self._say(cid, reply.text, said.to_json())
        if sent:
            history.append(Turn("bot", reply.text, intent=reply.intent, offers_person=reply.offers_person))

    async def _score(self, message: StoredMessage) -> tuple[list[Turn], Assessment]:
        """Run the turn through the pipeline and store its scores beside the message."""
        history = await self._history_for(message.conversation_id, before_seq=message.seq)
        assessment = await self.pipeline.assess(message.conversation_id, history, message.text)
        await asyncio.to_thread(self.store.set_analysis, message.conversation_id, message.seq, assessment.record())
        history.append(Turn("customer", message.text, assessment.analysis))
        return history, assessment

    async def _say(self, conversation_id: str, text: str, analysis: dict[str, Any] | None = None) -> bool:
        """Send a bot message; the store refuses it unless the bot owns the conversation."""
        try:
            message = await asyncio.to_thread(self.store.add_message, conversation_id, "bot", text, None, analysis)
        except BotMayNotSpeak:
            return False
        await self.publish(conversation_id, message.to_frame())
        return True

    def start_afresh(self, conversation_id: str) -> None:
        """After a person hands the chat back, the detectors judge it from here on: whatever upset or puzzled
        the customer before was dealt with by that person, and must not add up with what comes next."""
        self._history[conversation_id] = []
        self._history.move_to_end(conversation_id)
        if len(self._history) > self._history_cache_size:
            self._history.popitem(last=False)

    def forget(self, conversation_id: str) -> None:
        """Drop the cached turns, e.g. after people talked in the chat; they are rebuilt from the store."""
        self._history.pop(conversation_id, None)

    async def _history_for(self, conversation_id: str, before_seq: int) -> list[Turn]:
        """The turns before `before_seq`, from the cache or rebuilt from the store with one batched pass."""
        turns = self._history.get(conversation_id)
        if turns is not None:
            self._history.move_to_end(conversation_id)
            return turns
        stored = await asyncio.to_thread(self.store.messages_after, conversation_id, 0)
        earlier = [m for m in stored if m.seq < before_seq and m.sender in ("customer", "bot", "agent")]
        analyses: list[TurnAnalysis] = await asyncio.gather(
            *(self.pipeline.analyze(m.text) for m in earlier if m.sender == "customer")
        )
        found = iter(analyses)
        turns = [Turn("customer", m.text, next(found)) if m.sender == "customer" else _said(m) for m in earlier]
        self._history[conversation_id] = turns
        if len(self._history) > self._history_cache_size:
            self._history.popitem(last=False)
        return turns


def _said(message: StoredMessage) -> Turn:
    """A stored bot, agent or system message as a turn of the history (a bot's with what it answered)."""
    role: Role = message.sender  # type: ignore[assignment]  # stored senders are the protocol's roles
    if role != "bot":
        return Turn(role, message.text)
    said = BotReplyRecord.from_json(message.analysis)
    return Turn(role, message.text, intent=said.intent, offers_person=said.offers_person)
