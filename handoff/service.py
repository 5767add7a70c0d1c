"""Handing conversations to people: package, queue, offer, accept, transfer, return or resolve, and keep everyone told.

Events go out on the relay:
- `conversation:<id>`: what the customer (and anyone watching the chat) sees: messages, state, typing;
- `agents`: the queue changed, a ticket was opened, taken or closed;
- `agent:<id>`: offers and chats given to one agent;
- `supervisors`: SLAs at risk or breached.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from detectors.language import language_name
from detectors.languages import load_languages
from detectors.pattern_similarity import EscalationBank, conversation_vector
from detectors.records import TurnScores
from detectors.types import Decision, Turn
from handoff.agents import Agent, AgentDirectory
from handoff.config import HandoffSettings
from handoff.entities import EMAIL, Entity, EntityExtractor
from handoff.errors import InvalidRequest, NotAllowed
from handoff.ownership import Owner
from handoff.package import build_package, case_of, language_of, latest_topic_intent
from handoff.priority import Priority, assign_priority, raise_priority
from handoff.records import BankEntryRow, utcnow
from handoff.relay import EventRelay, conversation_topic
from handoff.routing import (
    best_agent,
    estimated_wait_s,
    queue_order,
    within_business_hours,
)
from handoff.store import ConversationStore, MessageScores, StoredMessage
from handoff.summary import summarize
from handoff.tickets import NewTicket, TicketConflict, TicketInfo, Tickets
from handoff.writer import Writer

logger = logging.getLogger(__name__)

AGENTS_TOPIC = "agents"
SUPERVISORS_TOPIC = "supervisors"

QUEUED_NOTICE = "I'm passing you to a member of our team. They will see everything we've discussed, so you won't need to repeat yourself."
OFFLINE_NOTICE = (
    "Nobody from our team is available right now{hours}. Leave your email address and a short message here, "
    "and we'll write back as soon as we're in. I'm still here if I can help in the meantime."
)
CONTACT_THANKS = "Thanks! We'll reply to {email} as soon as someone from the team is in."


def _in_their_language(notice: str, code: str | None, offline: bool) -> str:
    """The handing-over notice in the customer's language first, when they write in one the bot does not speak."""
    data = load_languages().get(code or "")
    if data is None or offline or not data.handing_over:
        return notice
    return f"{data.handing_over}\n\n{notice}"


def entity_list(mentions: Sequence[Entity]) -> list[dict[str, Any]]:
    """Each distinct entity once, with the customer messages it appears in."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for mention in mentions:
        entry = grouped.setdefault(
            mention.key,
            {"type": mention.type, "text": mention.text, "value": mention.value or mention.text, "messages": []},
        )
        if mention.message not in entry["messages"]:
            entry["messages"].append(mention.message)
    return list(grouped.values())


def agent_topic(agent_id: str) -> str:
    return f"agent:{agent_id}"


Embed = Callable[[list[str]], Awaitable[np.ndarray]]


@dataclass(frozen=True, slots=True)
class Escalation:
    ticket: TicketInfo
    created: bool
    offline: bool


async def woken_or_elapsed(event: asyncio.Event, seconds: float) -> None:
    """Return when `event` is set or after `seconds`, whichever comes first.

    Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation that lands as the event is set, and a
    dispatcher that misses its cancellation keeps the server from shutting down.
    """
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass


@dataclass(frozen=True, slots=True)
class HandoffDeployment:
    """What the handoff needs from the deployment: how to read entities, the bank of past escalations (grown by the
    agents' verdicts) and a way to embed texts for it, each intent's topic (for team routing), and the priority each
    case type gets."""

    extractor: EntityExtractor
    bank: EscalationBank
    embed: Embed
    intent_topics: Mapping[str, str] = field(default_factory=dict)
    case_priorities: Mapping[str, str] = field(default_factory=dict)


class HandoffService:
    def __init__(
        self,
        store: ConversationStore,
        writer: Writer,
        relay: EventRelay,
        settings: HandoffSettings,
        agents: AgentDirectory,
        deployment: HandoffDeployment | None = None,
    ) -> None:
        self.store = store
        self.writer = writer
        self.relay = relay
        self.settings = settings
        self.agents = agents
        self.tickets = Tickets(store)
        self.priority_rules = settings.priority
        # The models arrive after start-up (`attach`); only packaging and learning need them.
        self._deployment = deployment
        self._deployed = asyncio.Event()
        if deployment is not None:
            self._deployed.set()
        self.wake = asyncio.Event()  # nudges the dispatcher when something changed
        self._return_listeners: list[Callable[[str], None]] = []
        self._told_wait: dict[str, tuple[int, int]] = {}
        # Weak values: a conversation's lock lives only while someone publishes its state.
        self._state_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def attach(self, deployment: HandoffDeployment) -> None:
        """Hand over the models once they have loaded, with the confirmed handoffs of earlier runs in the bank."""
        self._deployment = deployment
        self.load_bank_entries()
        self._deployed.set()

    async def deployment(self) -> HandoffDeployment:
        await self._deployed.wait()
        assert self._deployment is not None  # set together with the event
        return self._deployment

    @property
    def teams(self) -> dict[str, list[str]]:
        """The teams and the topics each handles, as the composition root filled them in (HandoffSettings.with_teams)."""
        assert self.settings.teams is not None  # filled in before the service is built; narrows the type
        return self.settings.teams

    # The customer's side

    async def escalate(
        self, conversation_id: str, decision: Decision, history: Sequence[Turn], scores: MessageScores | None = None
    ) -> Escalation:
        """Package the conversation and open its ticket (exactly once); queue it, or take a message when nobody is in.

        The ticket, the owner change, the notice to the customer and the turn's `scores` commit together: after a
        crash the turn either happened whole or is answered again. The one exception: while nobody is in and the
        offline ticket was already open, the scores are left to the caller, who answers the turn anyway.
        """
        deployment = await self.deployment()
        offline = not await asyncio.to_thread(self._people_available)
        new = await asyncio.to_thread(self._prepare, conversation_id, decision, history, offline, deployment, scores)
        notice = OFFLINE_NOTICE.format(hours=self._hours_text()) if offline else QUEUED_NOTICE
        notice = _in_their_language(notice, language_of(decision), offline)

        def open_ticket(session: Session) -> tuple[TicketInfo, StoredMessage | None]:
            ticket, created = self.tickets.open_in(session, new)
            told = self.store.append(session, conversation_id, "system", notice) if created else None
            if scores is not None and (created or not offline):
                scores.store_in(self.store, session)
            return ticket, told

        ticket, told = await self.writer.write(open_ticket)
        if told is not None:
            # The state first, then the notice that explains it, in both cases.
            await self.publish_state(conversation_id, **({"offline": True} if offline else {}))
            await self.relay.publish(conversation_topic(conversation_id), told.to_frame())
            await self.relay.publish(AGENTS_TOPIC, {"type": "ticket_opened", "ticket": ticket.summary()})
            self.wake.set()
        return Escalation(ticket, told is not None, offline)

    async def take_contact(self, conversation_id: str, text: str, scores: MessageScores | None = None) -> bool:
        """While an offline ticket is open, a message with an email address is the customer asking to be called back.

        Returns True when the message was taken as contact details (stored with the turn's `scores`); anything else
        still goes to the bot.
        """
        match = EMAIL.search(text)
        if match is None:
            return False
        ticket = await asyncio.to_thread(self.tickets.open_for_conversation, conversation_id)
        if ticket is None or ticket.status != "offline":
            return False
        email = match.group(0)

        def keep_contact(session: Session) -> StoredMessage:
            self.tickets.set_contact_in(session, ticket.id, email, text)
            if scores is not None:
                scores.store_in(self.store, session)
            return self.store.append(session, conversation_id, "system", CONTACT_THANKS.format(email=email))

        thanks = await self.writer.write(keep_contact)
        await self.relay.publish(conversation_topic(conversation_id), thanks.to_frame())
        await self.relay.publish(AGENTS_TOPIC, {"type": "ticket_updated", "ticket_id": ticket.id})
        return True

    async def state_frame(self, conversation_id: str) -> dict[str, Any]:
        """The protocol's state frame: who owns the chat, and when queued, why, where and how long."""
        return await asyncio.to_thread(self._read_state, conversation_id)

    def _read_state(self, conversation_id: str) -> dict[str, Any]:
        # The owner and the queue are two reads, not one snapshot. A chat taken between them would be announced
        # as "queued at position 0", so the queue's answer counts only if the chat is still queued after it.
        while True:
            info = self.store.get(conversation_id)
            frame: dict[str, Any] = {"type": "state", "state": info.state.value}
            if info.state == Owner.AGENT:
                frame["agent"] = info.agent_name
            if info.state != Owner.QUEUED:
                return frame
            position, eta = self._wait_for(conversation_id)
            if self.store.get(conversation_id).state == Owner.QUEUED:
                return {**frame, "reason": info.state_reason, "position": position, "eta_s": eta}

    async def publish_state(self, conversation_id: str, only_a_new_wait: bool = False, **extra: Any) -> None:
        """Tell the customer who owns the chat now. With `only_a_new_wait`, only a queued chat whose position or
        wait changed since the customer was last told is published (the dispatcher's refresh)."""
        # Reading the state and publishing it happen under one lock per conversation, so a frame read before a
        # change can never reach the customer after the frame that announces the change.
        lock = self._state_locks.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            frame = {**await self.state_frame(conversation_id), **extra}
            if frame["state"] == "queued":
                wait = (frame["position"], frame["eta_s"])
                if only_a_new_wait and self._told_wait.get(conversation_id) == wait:
                    return
                self._told_wait[conversation_id] = wait
            elif only_a_new_wait:
                return
            await self.relay.publish(conversation_topic(conversation_id), frame)

    # The agents' side

    async def accept(self, ticket_id: int, agent: Agent) -> TicketInfo:
        ticket = await asyncio.to_thread(self.tickets.accept, ticket_id, agent.id, agent.display_name)
        await self.publish_state(ticket.conversation_id)
        await self._system_message(ticket.conversation_id, f"{agent.display_name} from our team has joined the chat.")
        await self._queue_changed("ticket_taken", ticket)
        return ticket

    async def decline(self, ticket_id: int, agent: Agent) -> None:
        await asyncio.to_thread(self.tickets.withdraw_offer, ticket_id, agent.id, "declined")
        self.wake.set()

    async def reply(self, ticket_id: int, agent: Agent, text: str) -> StoredMessage:
        ticket = await self._held(ticket_id, agent)
        message = await asyncio.to_thread(
            self.store.add_message, ticket.conversation_id, "agent", text, agent.display_name
        )
        if ticket.first_response_at is None:
            await asyncio.to_thread(self.tickets.record_first_response, ticket_id)
        await self.relay.publish(conversation_topic(ticket.conversation_id), message.to_frame())
        return message

    async def typing(self, ticket_id: int, agent: Agent) -> None:
        ticket = await self._held(ticket_id, agent)
        await self.relay.publish(conversation_topic(ticket.conversation_id), {"type": "typing", "sender": "agent"})

    async def note(self, ticket_id: int, agent: Agent, text: str) -> None:
        """An internal note: stored on the ticket and shown to agents, never sent to the customer. Only the agent who
        holds the chat, or a supervisor, may add one: a note is part of the handling, not a comment box."""
        ticket = await asyncio.to_thread(self.tickets.get, ticket_id)
        if ticket.assigned_agent != agent.id and not agent.is_supervisor:
            raise NotAllowed("only the agent holding this chat, or a supervisor, may add notes to it")
        await asyncio.to_thread(
            self.tickets.add_event, ticket_id, "note", agent.id, {"text": text, "author": agent.display_name}
        )
        await self.relay.publish(
            AGENTS_TOPIC, {"type": "note", "ticket_id": ticket_id, "author": agent.display_name, "text": text}
        )

    async def transfer_to_agent(
        self, ticket_id: int, agent: Agent, target_id: str, note: str, kind: str = "transfer_agent"
    ) -> TicketInfo:
        target = await asyncio.to_thread(self.agents.get, target_id)
        if target.id == agent.id:
            raise TicketConflict("a chat cannot be transferred to the agent who holds it")
        ticket = await asyncio.to_thread(
            self.tickets.reassign, ticket_id, agent.id, target.id, target.display_name, note, kind
        )
        await self.publish_state(ticket.conversation_id)
        await self._system_message(
            ticket.conversation_id, f"{target.display_name} is taking over from {agent.display_name}."
        )
        await self.relay.publish(
            agent_topic(target.id),
            {"type": "assigned", "ticket": ticket.summary(), "note": note, "from": agent.display_name},
        )
        await self._queue_changed("ticket_transferred", ticket)
        return ticket

    async def transfer_to_supervisor(self, ticket_id: int, agent: Agent, note: str) -> TicketInfo:
        """Hierarchical escalation: the least-loaded online supervisor takes the chat."""
        everyone = await asyncio.to_thread(self.agents.all)
        loads = await asyncio.to_thread(self.agents.loads)
        supervisors = [a for a in everyone if a.is_supervisor and a.status == "online" and a.id != agent.id]
        if not supervisors:
            raise TicketConflict("no supervisor is online")
        target = min(supervisors, key=lambda a: (loads.get(a.id, 0), a.id))
        return await self.transfer_to_agent(ticket_id, agent, target.id, note, kind="transfer_supervisor")

    async def transfer_to_team(self, ticket_id: int, agent: Agent, team: str, note: str) -> TicketInfo:
        """Functional escalation: back to the queue, for the agents of another team."""
        if team not in self.teams:
            raise InvalidRequest(f"unknown team {team!r}; teams: {', '.join(self.teams)}")
        ticket = await asyncio.to_thread(self.tickets.requeue, ticket_id, agent.id, team, note)
        await self.publish_state(ticket.conversation_id)
        await self._system_message(ticket.conversation_id, f"{agent.display_name} is passing you to our {team} team.")
        await self._queue_changed("ticket_requeued", ticket)
        return ticket

    def on_return(self, listener: Callable[[str], None]) -> None:
        """Call `listener(conversation_id)` whenever an agent hands a chat back to the bot."""
        self._return_listeners.append(listener)

    async def return_to_bot(self, ticket_id: int, agent: Agent) -> TicketInfo:
        ticket = await asyncio.to_thread(
            self.tickets.close,
            ticket_id,
            agent.id,
            "returned",
            Owner.BOT,
            f"{agent.display_name} handed the chat back to the bot",
        )
        for listener in self._return_listeners:
            listener(ticket.conversation_id)
        await self.publish_state(ticket.conversation_id)
        await self._system_message(
            ticket.conversation_id, "You're back with the assistant. Ask away, or ask for a person any time."
        )
        await self._queue_changed("ticket_closed", ticket)
        return ticket

    async def resolve(self, ticket_id: int, agent: Agent, needed: bool, comment: str | None) -> TicketInfo:
        """Close the chat with the agent's verdict. 'Needed' teaches the pattern bank; 'not needed' is a false escalation."""
        ticket = await asyncio.to_thread(
            self.tickets.close,
            ticket_id,
            agent.id,
            "resolved",
            Owner.CLOSED,
            f"Resolved by {agent.display_name}",
            needed,
            comment,
        )
        await self.publish_state(ticket.conversation_id)
        await self._system_message(
            ticket.conversation_id, "This chat has been resolved. Thanks for contacting us! Write again any time."
        )
        if needed:
            await self._learn(ticket)
        await self._queue_changed("ticket_closed", ticket)
        return ticket

    async def close_offline(self, ticket_id: int, agent: Agent, comment: str | None) -> TicketInfo:
        ticket = await asyncio.to_thread(self.tickets.close_offline, ticket_id, agent.id, comment)
        await self._queue_changed("ticket_closed", ticket)
        return ticket

    # Queue position, waiting times, the dispatcher's work

    def _wait_for(self, conversation_id: str) -> tuple[int, int]:
        queued = queue_order(t.waiting() for t in self.tickets.with_status("queued"))
        ids = {t.ticket_id: n for n, t in enumerate(queued, start=1)}
        ticket = self.tickets.open_for_conversation(conversation_id)
        position = ids.get(ticket.id, 0) if ticket else 0
        online = sum(1 for a in self.agents.all() if a.status == "online")
        return position, estimated_wait_s(position, online, self.handle_seconds())

    def handle_seconds(self) -> float:
        """The mean handling time of recent chats, or the configured assumption before there are any."""
        recent = self.tickets.recent_handle_seconds()
        return sum(recent) / len(recent) if recent else self.settings.default_handle_s

    async def dispatch(self) -> None:
        """One round: expire stale offers, offer waiting chats, watch SLAs, refresh customers' waiting times."""
        now = utcnow()
        queued = await asyncio.to_thread(self.tickets.with_status, "queued")
        for ticket in queued:
            if (
                ticket.offered_to
                and ticket.offered_at
                and (now - ticket.offered_at).total_seconds() >= self.settings.offer_timeout_s
            ):
                await asyncio.to_thread(self.tickets.withdraw_offer, ticket.id, ticket.offered_to, "offer_expired")
                await self.relay.publish(
                    agent_topic(ticket.offered_to), {"type": "offer_withdrawn", "ticket_id": ticket.id}
                )
        await self._offer_waiting()
        await self._watch_slas(now)
        await self._refresh_waits()

    async def _offer_waiting(self) -> None:
        queued = await asyncio.to_thread(self.tickets.with_status, "queued")
        agents = await asyncio.to_thread(self.agents.all)
        loads = await asyncio.to_thread(self.agents.loads)
        # An agent weighs one offer at a time; a pending offer counts towards their load.
        busy = {t.offered_to for t in queued if t.offered_to}
        for chat in queue_order(t.waiting() for t in queued if not t.offered_to):
            agent = best_agent(chat, agents, loads, exclude=busy)
            if agent is None:
                continue
            if await asyncio.to_thread(self.tickets.offer, chat.ticket_id, agent.id):
                busy.add(agent.id)
                ticket = await asyncio.to_thread(self.tickets.get, chat.ticket_id)
                await self.relay.publish(
                    agent_topic(agent.id),
                    {"type": "offer", "ticket": ticket.summary(), "timeout_s": self.settings.offer_timeout_s},
                )

    async def _watch_slas(self, now: datetime) -> None:
        waiting = await asyncio.to_thread(self.tickets.with_status, "queued", "assigned")
        for ticket in waiting:
            if ticket.first_response_at is not None or ticket.sla_due_at is None:
                continue
            total = (ticket.sla_due_at - ticket.queued_at).total_seconds()
            elapsed = (now - ticket.queued_at).total_seconds()
            if elapsed >= total and await asyncio.to_thread(self.tickets.mark_breached, ticket.id):
                await self.relay.publish(SUPERVISORS_TOPIC, {"type": "sla_breached", "ticket": ticket.summary()})
            elif elapsed >= total * self.settings.sla_at_risk and not ticket.sla_at_risk:
                raised = raise_priority(ticket.priority)
                if await asyncio.to_thread(self.tickets.mark_at_risk, ticket.id, raised):
                    await self.relay.publish(
                        SUPERVISORS_TOPIC, {"type": "sla_at_risk", "ticket": ticket.summary(), "priority": raised}
                    )

    async def _refresh_waits(self) -> None:
        """Tell each waiting customer their new position and wait, when they changed."""
        queued = await asyncio.to_thread(self.tickets.with_status, "queued")
        live = {t.conversation_id for t in queued}
        for conversation_id in list(self._told_wait):
            if conversation_id not in live:
                del self._told_wait[conversation_id]
        for ticket in queued:
            # The chat may have been taken since the list was read: it is re-read under the state lock.
            await self.publish_state(ticket.conversation_id, only_a_new_wait=True)

    async def run_dispatcher(self, interval_s: float = 1.0) -> None:
        """Dispatch every `interval_s`, or at once when woken."""
        while True:
            try:
                await self.dispatch()
            except Exception:  # the loop must outlive one bad round
                logger.exception("dispatch round failed")
            await woken_or_elapsed(self.wake, interval_s)
            self.wake.clear()

    # Helpers

    def _people_available(self) -> bool:
        if not within_business_hours(utcnow(), self.settings.business_hours):
            return False
        return any(a.status == "online" for a in self.agents.all())

    def _hours_text(self) -> str:
        hours = self.settings.business_hours
        if hours.open == "00:00" and hours.close == "24:00" and len(hours.days) == 7:
            return ""
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = ", ".join(names[d] for d in sorted(hours.days))
        return f" (we're here {days}, {hours.open}–{hours.close} {hours.timezone})"

    def _prepare(
        self,
        conversation_id: str,
        decision: Decision,
        history: Sequence[Turn],
        offline: bool,
        deployment: HandoffDeployment,
        scores: MessageScores | None = None,
    ) -> NewTicket:
        info = self.store.get(conversation_id)
        messages = self.store.messages_after(conversation_id, 0)
        if scores is not None:  # the escalating turn's scores commit with the ticket, but belong in its package
            messages = [scores.on(m) for m in messages]
        customer_texts = [m.text for m in messages if m.sender == "customer"]
        embeddings = [t.analysis.embedding for t in history if t.role == "customer" and t.analysis is not None]
        vectors = np.stack(embeddings) if len(embeddings) == len(customer_texts) and embeddings else None
        entities = entity_list(deployment.extractor.extract(customer_texts))
        negatives = [TurnScores.from_json(m.analysis).upset for m in messages if m.sender == "customer" and m.analysis]
        case = case_of(decision)
        priorities = deployment.case_priorities  # case type name -> the level the deployment gives it
        case_level = (case["label"], Priority(priorities.get(case["name"], "normal"))) if case else None
        priority, reasons = assign_priority(
            decision.trigger,
            max(negatives, default=0.0),
            customer_texts,
            info.customer,
            self.priority_rules,
            case_level,
        )
        level = priority.value
        team = self._team_for(latest_topic_intent(messages), deployment.intent_topics)
        code = language_of(decision)
        language = {"code": code, "name": language_name(code)} if code else None
        package = build_package(
            info,
            messages,
            decision,
            summarize(customer_texts, vectors),
            entities,
            level,
            reasons,
            team,
            language=language,
            required_skills=[f"lang:{code}"] if code else [],
        )
        return NewTicket(
            conversation_id=conversation_id,
            priority=level,
            team=team,
            trigger=decision.trigger,
            reason=package["trigger"]["reason"] or "The customer needs a person.",
            package=package,
            sla_s=self.settings.sla_s[level],
            offline=offline,
        )

    def _team_for(self, intent: str | None, intent_topics: Mapping[str, str]) -> str:
        topic = intent_topics.get(intent or "")
        for team, topics in self.teams.items():
            if topic in topics:
                return team
        return self.settings.default_team

    async def _held(self, ticket_id: int, agent: Agent) -> TicketInfo:
        ticket = await asyncio.to_thread(self.tickets.get, ticket_id)
        if ticket.status != "assigned" or ticket.assigned_agent != agent.id:
            raise TicketConflict(f"ticket {ticket_id} is not held by {agent.id}")
        return ticket

    async def _system_message(self, conversation_id: str, text: str) -> None:
        message = await self.writer.write(lambda session: self.store.append(session, conversation_id, "system", text))
        await self.relay.publish(conversation_topic(conversation_id), message.to_frame())

    async def _queue_changed(self, kind: str, ticket: TicketInfo) -> None:
        await self.relay.publish(AGENTS_TOPIC, {"type": kind, "ticket": ticket.summary()})
        self.wake.set()

    async def _learn(self, ticket: TicketInfo) -> None:
        """Add a confirmed handoff to the pattern bank, now and at every later start."""
        texts = [t["text"] for t in ticket.package.get("transcript", []) if t["sender"] == "customer"]
        if not texts:
            return
        deployment = await self.deployment()
        vectors = await deployment.embed(texts)
        summary = ticket.package.get("summary") or ticket.reason
        entry_id = f"ticket-{ticket.id}"
        deployment.bank.add(entry_id, summary, vectors)
        vector = conversation_vector(vectors).round(6).tolist()
        await asyncio.to_thread(self._save_bank_entry, ticket.id, summary, vector)

    def _save_bank_entry(self, ticket_id: int, summary: str, vector: list[float]) -> None:
        with self.store.session() as session, session.begin():
            session.merge(BankEntryRow(ticket_id=ticket_id, summary=summary, vector=vector))

    def load_bank_entries(self) -> int:
        """Put every confirmed handoff from earlier runs back into the bank; return how many."""
        assert self._deployment is not None  # called by attach
        with self.store.reading() as session:
            rows = session.scalars(select(BankEntryRow)).all()
            for row in rows:
                self._deployment.bank.add(
                    f"ticket-{row.ticket_id}", row.summary, np.asarray([row.vector], dtype=np.float32)
                )
            return len(rows)
