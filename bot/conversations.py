"""The customer's side of a conversation: open or resume it, take messages, answer or hand over.

Two stages. Taking a message commits it on the writer's urgent lane and acknowledges it, whatever the analysis is
doing. Answering waits for the models (which may still be loading at start-up), takes one turn at a time per
conversation, and commits each turn's outcome (a reply, a ticket, or the scores alone) together with its scores.
A crash therefore leaves every turn either whole or without scores, and `recover` answers the latter at the next
start, in order.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.orm import Session

from bot.new_conversations import NewConversationLimit
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
    MessageScores,
    NewConversation,
    StoredMessage,
    move_owner,
)
from handoff.writer import Writer
from models.analysis import TurnAnalysis

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
TYPING_EVERY_S = 3.0  # the widget hides a typing line after 4 s; a slow answer renews it before then


class Refused(RuntimeError):
    """A message the service does not take now. Nothing was stored: the client may send it again after
    `retry_after` seconds, under the same client_msg_id."""

    def __init__(self, code: str, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after

    def frame(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": str(self), "retry_after": round(self.retry_after, 1)}


@dataclass(slots=True)
class Opened:
    """A connection's conversation. A new one is `planned`: handed out at hello, stored with its first message."""

    info: ConversationInfo
    token: str
    resumed: bool
    planned: NewConversation | None = None

    @property
    def id(self) -> str:
        return self.info.id


@dataclass(frozen=True, slots=True)
class AnswerStage:
    """The answering stage's limits: past `max_waiting` turns new messages are refused ("busy"); an answer slower
    than `typing_after_s` shows the customer that the bot is typing."""

    max_waiting: int = 1000
    typing_after_s: float = 1.0
    busy_retry_after_s: float = 5.0


class Conversations:
    """Persist first, acknowledge, then answer; every change goes out on the relay."""

    def __init__(
        self,
        store: ConversationStore,
        writer: Writer,
        relay: EventRelay,
        handoff: HandoffService,
        *,
        greeting: str = "",
        stage: AnswerStage = AnswerStage(),
        new_conversations: NewConversationLimit | None = None,
        history_cache_size: int = 5000,
    ) -> None:
        self.store = store
        self.writer = writer
        self.relay = relay
        self.handoff = handoff
        self.greeting = greeting
        self.stage = stage
        self.new_conversations = new_conversations
        self._pipeline: Pipeline | None = None
        self._ready = asyncio.Event()
        self._history: OrderedDict[str, list[Turn]] = OrderedDict()
        self._history_cache_size = history_cache_size
        # Weak values: a conversation's lock lives only while a turn of it is being answered.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._turns: set[asyncio.Task[None]] = set()
        handoff.on_return(self.start_afresh)

    # Start-up

    def attach(self, pipeline: Pipeline) -> None:
        """The models have loaded: turns waiting for them are answered now."""
        self._pipeline = pipeline
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def recover(self) -> int:
        """Answer, in order, the turns that a crash left acknowledged but unanswered; return how many."""
        unanswered = await asyncio.to_thread(self.store.unanswered)
        for message in unanswered:
            self._start_turn(message)
        if unanswered:
            logger.info("answering %d messages left unanswered by the last run", len(unanswered))
        return len(unanswered)

    @property
    def waiting(self) -> int:
        """Turns taken and not yet answered."""
        return len(self._turns)

    # Opening

    async def open(self, conversation_id: str | None, token: str | None, customer: dict[str, Any]) -> Opened:
        """Resume the conversation if the token matches, else plan a new one (stored at its first message)."""
        if conversation_id:
            resumed = await asyncio.to_thread(self.store.resume, conversation_id, token)
            if resumed is not None:
                if customer:
                    await self.writer.write(
                        lambda session: self.store.update_customer_in(session, resumed.id, customer)
                    )
                return Opened(resumed, token or "", True)
        planned, new_token = NewConversation.plan(customer)
        return Opened(planned.info(), new_token, False, planned)

    def greeting_frame(self, opened: Opened) -> dict[str, Any] | None:
        """A planned conversation's greeting, shown now and stored as message 1 with the first message."""
        if opened.planned is None or not self.greeting:
            return None
        ts = opened.planned.created_at.isoformat()
        return {"type": "message", "seq": 1, "sender": "bot", "text": self.greeting, "ts": ts}

    async def state_frame(self, opened: Opened) -> dict[str, Any]:
        if opened.planned is not None:
            return {"type": "state", "state": Owner.BOT.value}
        return await self.handoff.state_frame(opened.id)

    # Taking a message

    async def receive(
        self, opened: Opened, client_msg_id: str, text: str, address: str = ""
    ) -> tuple[StoredMessage, bool]:
        """Commit the customer's message (once per client_msg_id) and start answering it; raise Refused when the
        answering stage is full or the address has started too many conversations."""
        if self.waiting >= self.stage.max_waiting:
            raise Refused(
                "busy", "Too many people are writing right now; send it again shortly.", self.stage.busy_retry_after_s
            )
        planned = opened.planned
        if planned is None:
            cid = opened.id
            message, created = await self.writer.write(
                lambda session: self.store.append_customer(session, cid, client_msg_id, text), urgent=True
            )
        else:
            wait = self.new_conversations.admit(address) if self.new_conversations else 0.0
            if wait:
                raise Refused("too_many_conversations", "Too many new conversations from your address.", wait)

            def create(session: Session) -> tuple[StoredMessage, bool]:
                self.store.create(session, planned, self.greeting)
                return self.store.append_customer(session, planned.id, client_msg_id, text)

            message, created = await self.writer.write(create, urgent=True)
            opened.planned = None
        if created:
            await self.publish(message.conversation_id, message.to_frame())
            self._start_turn(message)
        return message, created

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        await self.relay.publish(conversation_topic(conversation_id), event)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for answers in progress (used at shutdown)."""
        if self._turns:
            await asyncio.wait(set(self._turns), timeout=timeout)

    # Answering

    def _start_turn(self, message: StoredMessage) -> None:
        task = asyncio.create_task(self._respond(message))
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)

    async def _respond(self, message: StoredMessage) -> None:
        # One turn at a time per conversation, so answers come in the order the questions did.
        lock = self._locks.setdefault(message.conversation_id, asyncio.Lock())
        async with lock:
            try:
                await self._answer(message)
            except Exception as error:
                logger.exception("answering conversation %s failed", message.conversation_id)
                # Marked as answered with the failure, so a message that breaks the pipeline is not retried forever.
                failed = MessageScores(message.conversation_id, message.seq, {"failed": type(error).__name__})
                await self._say(message.conversation_id, SORRY, scores=failed)

    async def _answer(self, message: StoredMessage) -> None:
        cid = message.conversation_id
        info = await asyncio.to_thread(self.store.get, cid)
        if info.state == Owner.CLOSED:
            # The customer came back to a resolved chat: the bot picks it up again.
            await self.writer.write(
                lambda session: move_owner(session, cid, Owner.BOT, "The customer wrote again.", "customer")
            )
            await self.handoff.publish_state(cid)
            self.forget(cid)
        elif info.state != Owner.BOT:
            # A person owns it, or it waits for one: the message reached them on the relay. It is still
            # scored, for the agent's sentiment chart and for tuning, but nothing acts on the scores.
            _, assessment = await self._assess(message)
            scores = MessageScores(cid, message.seq, assessment.record())
            await self.writer.write(lambda session: scores.store_in(self.store, session))
            return
        typing = _TypingNotice(self, cid, self.stage.typing_after_s)
        try:
            history, assessment = await self._assess(message)
            scores = MessageScores(cid, message.seq, assessment.record())
            if await self.handoff.take_contact(cid, message.text, scores):
                return  # nobody is in, and this was the customer leaving their details
            reply = assessment.reply
            if reply is None:
                escalation = await self.handoff.escalate(cid, assessment.decision, history, scores)
                if escalation.created or not escalation.offline:
                    return
                # Nobody is in and the customer was already told: the bot stays available and answers what it can.
                reply = (await self._ready_pipeline()).answer_anyway(assessment, history)
            said = BotReplyRecord(reply.intent, round(reply.confidence, 4), reply.offers_person)
        finally:
            typing.cancel()
        if await self._say(cid, reply.text, said.to_json(), scores):
            history.append(Turn("bot", reply.text, intent=reply.intent, offers_person=reply.offers_person))

    async def _ready_pipeline(self) -> Pipeline:
        await self._ready.wait()
        assert self._pipeline is not None  # set together with the event
        return self._pipeline

    async def _assess(self, message: StoredMessage) -> tuple[list[Turn], Assessment]:
        """Run the turn through the pipeline; the history gains the customer's turn."""
        pipeline = await self._ready_pipeline()
        history = await self._history_for(message.conversation_id, message.seq, pipeline)
        assessment = await pipeline.assess(message.conversation_id, history, message.text)
        history.append(Turn("customer", message.text, assessment.analysis))
        return history, assessment

    async def _say(
        self,
        conversation_id: str,
        text: str,
        analysis: dict[str, Any] | None = None,
        scores: MessageScores | None = None,
    ) -> bool:
        """Send a bot message, committed with the customer turn's `scores`; the store refuses the message (but
        keeps the scores) unless the bot owns the conversation."""

        def say(session: Session) -> StoredMessage | None:
            if scores is not None:
                scores.store_in(self.store, session)
            try:  # a refused bot message changes nothing, so the scores still commit
                return self.store.append(session, conversation_id, "bot", text, analysis=analysis)
            except BotMayNotSpeak:
                return None

        message = await self.writer.write(say)
        if message is None:
            return False
        await self.publish(conversation_id, message.to_frame())
        return True

    # The turns the detectors judge

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

    async def _history_for(self, conversation_id: str, before_seq: int, pipeline: Pipeline) -> list[Turn]:
        """The turns before `before_seq`, from the cache or rebuilt from the store with one batched pass."""
        turns = self._history.get(conversation_id)
        if turns is not None:
            self._history.move_to_end(conversation_id)
            return turns
        stored = await asyncio.to_thread(self.store.messages_after, conversation_id, 0)
        earlier = [m for m in stored if m.seq < before_seq and m.sender in ("customer", "bot", "agent")]
        analyses: list[TurnAnalysis] = await asyncio.gather(
            *(pipeline.analyze(m.text) for m in earlier if m.sender == "customer")
        )
        found = iter(analyses)
        turns = [Turn("customer", m.text, next(found)) if m.sender == "customer" else _said(m) for m in earlier]
        self._history[conversation_id] = turns
        if len(self._history) > self._history_cache_size:
            self._history.popitem(last=False)
        return turns


class _TypingNotice:
    """Shows the customer that the bot is on it when an answer takes longer than `after_s`, until it is cancelled."""

    def __init__(self, conversations: Conversations, conversation_id: str, after_s: float) -> None:
        self._conversations = conversations
        self._conversation_id = conversation_id
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(after_s, self._fire)
        self._sending: set[asyncio.Task[None]] = set()

    def _fire(self) -> None:
        frame = {"type": "typing", "sender": "bot"}
        task = self._loop.create_task(self._conversations.publish(self._conversation_id, frame))
        self._sending.add(task)  # a reference until it ran: the loop keeps only weak ones
        task.add_done_callback(self._sending.discard)
        self._handle = self._loop.call_later(TYPING_EVERY_S, self._fire)

    def cancel(self) -> None:
        self._handle.cancel()


def _said(message: StoredMessage) -> Turn:
    """A stored bot, agent or system message as a turn of the history (a bot's with what it answered)."""
    role = cast(Role, message.sender)  # stored senders are the protocol's roles
    if role != "bot":
        return Turn(role, message.text)
    said = BotReplyRecord.from_json(message.analysis)
    return Turn(role, message.text, intent=said.intent, offers_person=said.offers_person)
