"""Routing rules as pure functions: queue order, the best agent for a chat, the estimated wait, business hours."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from handoff.agents import Agent
from handoff.config import BusinessHours
from handoff.priority import PRIORITIES

PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}


@dataclass(frozen=True, slots=True)
class Waiting:
    """What routing needs to know about a queued chat."""

    ticket_id: int
    priority: str
    team: str
    queued_at: datetime
    declined_by: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()  # skills the chat needs, e.g. "vip" or "security"


def queue_order(waiting: Iterable[Waiting]) -> list[Waiting]:
    """Urgent chats first, then the ones that have waited longest."""
    return sorted(waiting, key=lambda w: (PRIORITY_RANK.get(w.priority, len(PRIORITIES)), w.queued_at, w.ticket_id))


def available(agents: Iterable[Agent], loads: dict[str, int]) -> list[Agent]:
    """Online agents with room for one more chat."""
    return [a for a in agents if a.status == "online" and loads.get(a.id, 0) < a.max_chats]


def best_agent(
    chat: Waiting, agents: Sequence[Agent], loads: dict[str, int], exclude: Iterable[str] = ()
) -> Agent | None:
    """Skill match first (the chat's team, then the skills it needs), then the least loaded; ties go to the lowest id."""
    skipped = set(exclude) | set(chat.declined_by)
    candidates = [a for a in available(agents, loads) if a.id not in skipped]
    if not candidates:
        return None
    needed = set(chat.skills)
    return min(
        candidates,
        key=lambda a: (chat.team not in a.teams, not needed <= set(a.skills), loads.get(a.id, 0), a.id),
    )


def estimated_wait_s(position: int, agents_online: int, handle_s: float) -> int:
    """Seconds until a person picks up the chat at `position` (1 = next).

    With k agents taking chats in parallel, the chat at position p waits about ceil(p / k) handling times;
    with nobody online, as if one agent were about to come back.
    """
    if position <= 0:
        return 0
    lanes = max(1, agents_online)
    return int(round(math.ceil(position / lanes) * handle_s))


def within_business_hours(moment: datetime, hours: BusinessHours) -> bool:
    local = moment.astimezone(ZoneInfo(hours.timezone))
    if local.weekday() not in hours.days:
        return False
    opens, closes = _clock(hours.open), hours.close
    now = local.time()
    if closes == "24:00":
        return now >= opens
    return opens <= now < _clock(closes)


def _clock(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    return time(hour, minute)
