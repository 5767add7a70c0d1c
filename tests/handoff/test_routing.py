from datetime import UTC, datetime, timedelta

import pytest

from handoff.agents import Agent
from handoff.config import BusinessHours
from handoff.priority import raise_priority
from handoff.routing import (
    Waiting,
    best_agent,
    estimated_wait_s,
    queue_order,
    within_business_hours,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def agent(id, teams=(), status="online", max_chats=2, skills=()):
    return Agent(id, id.title(), "agent", tuple(teams), tuple(skills), status, max_chats)


def waiting(ticket_id, priority="normal", team="orders", minutes_ago=0, declined=(), skills=()):
    return Waiting(ticket_id, priority, team, T0 - timedelta(minutes=minutes_ago), tuple(declined), tuple(skills))


def test_urgent_first_then_longest_waiting():
    chats = [
        waiting(1, "normal", minutes_ago=10),
        waiting(2, "urgent", minutes_ago=1),
        waiting(3, "normal", minutes_ago=20),
        waiting(4, "high", minutes_ago=5),
        waiting(5, "low", minutes_ago=60),
    ]
    assert [w.ticket_id for w in queue_order(chats)] == [2, 4, 3, 1, 5]


def test_skill_match_beats_load():
    agents = [agent("ana", teams=["billing"]), agent("bo", teams=["orders"])]
    assert best_agent(waiting(1, team="orders"), agents, {"ana": 0, "bo": 1}).id == "bo"


def test_least_loaded_among_matches_and_lowest_id_on_ties():
    agents = [agent("cy", teams=["orders"]), agent("bo", teams=["orders"]), agent("al", teams=["orders"])]
    assert best_agent(waiting(1), agents, {"al": 1, "bo": 0, "cy": 0}).id == "bo"


def test_required_skills_break_ties_within_the_team():
    agents = [agent("al", teams=["orders"]), agent("bo", teams=["orders"], skills=["vip"])]
    assert best_agent(waiting(1, skills=["vip"]), agents, {"al": 0, "bo": 1}).id == "bo"


def test_falls_back_to_other_teams_when_no_specialist_is_free():
    agents = [agent("ana", teams=["billing"]), agent("bo", teams=["orders"], max_chats=1)]
    assert best_agent(waiting(1), agents, {"bo": 1}).id == "ana"


def test_offline_away_full_declined_and_excluded_agents_are_skipped():
    agents = [agent("a", status="away"), agent("b", status="offline"), agent("c", max_chats=1), agent("d"), agent("e")]
    chat = waiting(1, declined=["d"])
    assert best_agent(chat, agents, {"c": 1}, exclude=["e"]) is None
    assert best_agent(chat, agents, {"c": 1}).id == "e"


@pytest.mark.parametrize(
    ("priority", "raised"), [("low", "normal"), ("normal", "high"), ("high", "urgent"), ("urgent", "urgent")]
)
def test_raise_priority(priority, raised):
    assert raise_priority(priority) == raised


@pytest.mark.parametrize(
    ("position", "online", "handle", "expected"),
    [(0, 3, 100, 0), (1, 1, 100, 100), (3, 1, 100, 300), (3, 2, 100, 200), (4, 2, 100, 200), (2, 0, 60, 120)],
)
def test_estimated_wait(position, online, handle, expected):
    assert estimated_wait_s(position, online, handle) == expected


def test_business_hours_in_the_configured_zone():
    hours = BusinessHours(timezone="America/New_York", days=[0, 1, 2, 3, 4], open="09:00", close="17:00")
    monday_10_ny = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York
    assert within_business_hours(monday_10_ny, hours)
    assert not within_business_hours(monday_10_ny.replace(hour=13), hours)  # 08:00 in New York
    assert not within_business_hours(monday_10_ny.replace(hour=22), hours)  # 17:00 in New York: closed
    assert not within_business_hours(datetime(2026, 11, 22, 15, 0, tzinfo=UTC), hours)  # Sunday


def test_always_open_by_default():
    assert within_business_hours(T0, BusinessHours())


def test_unknown_time_zone_is_a_config_error():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        BusinessHours(timezone="Mars/Olympus")
