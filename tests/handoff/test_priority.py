"""Priority rules, one by one, with hand-written messages and scores."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from handoff.priority import (
    Priority,
    PriorityRules,
    assign_priority,
    is_vip,
    urgent_wording,
)

RULES = PriorityRules()
CALM = ["Where is my parcel?"]
NOBODY: dict[str, object] = {"name": "Ana", "attributes": {}}


def test_levels_are_ordered_and_step_up():
    assert [p.rank for p in (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)] == [0, 1, 2, 3]
    assert Priority.LOW.raised() == Priority.NORMAL
    assert Priority.URGENT.raised() == Priority.URGENT


@pytest.mark.parametrize(
    ("trigger", "level"),
    [
        ("explicit_request", Priority.NORMAL),
        ("sentiment", Priority.HIGH),
        ("intent_confidence", Priority.NORMAL),
        ("pattern_similarity", Priority.NORMAL),
        ("something_new", Priority.NORMAL),  # an unknown trigger starts at the default level
        (None, Priority.NORMAL),
    ],
)
def test_the_trigger_sets_the_starting_level(trigger, level):
    assert assign_priority(trigger, 0.1, CALM, NOBODY, RULES)[0] == level


def test_the_starting_levels_come_from_the_rules():
    rules = PriorityRules(trigger_levels={"pattern_similarity": "low"}, default_level="high")
    assert assign_priority("pattern_similarity", 0.1, CALM, NOBODY, rules) == (
        Priority.LOW,
        ["Looks like a case that needs a person: starts at low"],
    )
    assert assign_priority(None, 0.1, CALM, NOBODY, rules) == (Priority.HIGH, ["Starts at high"])


def test_very_negative_sentiment_is_urgent():
    level, reasons = assign_priority("explicit_request", 0.93, CALM, NOBODY, RULES)
    assert level == Priority.URGENT
    assert reasons[-1] == "Very negative sentiment (0.93)"


def test_negative_sentiment_is_at_least_high():
    assert assign_priority("explicit_request", 0.75, CALM, NOBODY, RULES) == (
        Priority.HIGH,
        ["Asked for a person: starts at normal", "Negative sentiment (0.75)"],
    )
    assert assign_priority("explicit_request", 0.69, CALM, NOBODY, RULES)[0] == Priority.NORMAL


def test_negative_sentiment_never_lowers_the_level():
    rules = PriorityRules(trigger_levels={"sentiment": "urgent"})
    assert assign_priority("sentiment", 0.75, CALM, NOBODY, rules)[0] == Priority.URGENT


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("There's an UNAUTHORIZED   charge on my card", "Security/fraud wording: 'UNAUTHORIZED   charge'"),
        ("I think my account was hacked", "Security/fraud wording: 'hacked'"),
        ("this is fraud", "Security/fraud wording: 'fraud'"),
        ("I didn’t authorize this payment", "Security/fraud wording: 'didn't authorize'"),
        ("My lawyer will hear about this", "Legal wording: 'lawyer'"),
        ("I'm going to sue you", "Legal wording: 'sue you'"),
        ("I'll file a chargeback", "Legal wording: 'chargeback'"),
        ("I'm not sure, but I think I was hacked", "Security/fraud wording: 'hacked'"),
    ],
)
def test_security_and_legal_wording_is_urgent(text, reason):
    level, reasons = assign_priority("explicit_request", 0.1, ["hello", text], NOBODY, RULES)
    assert level == Priority.URGENT
    assert reason in reasons


@pytest.mark.parametrize(
    "text",
    [
        "I have an issue with my order",  # "sue" inside a word
        "Sue from your team helped me",  # the name, not the threat
        "my fraudster-proof lock",  # a longer word
        "this is not fraud, just a mistake",  # negated
        "I wasn't hacked, I forgot my password",
        "no lawyer needed, just fix it",
        "of course",
    ],
)
def test_words_that_only_look_alarming_are_not(text):
    assert urgent_wording([text], RULES.urgent_keywords) == []
    assert assign_priority("explicit_request", 0.1, [text], NOBODY, RULES)[0] == Priority.NORMAL


def test_each_phrase_is_reported_once():
    found = urgent_wording(["fraud!", "FRAUD again", "and a data breach"], RULES.urgent_keywords)
    assert found == [("Security/fraud", "fraud"), ("Security/fraud", "data breach")]


def test_keywords_come_from_the_rules():
    rules = PriorityRules(urgent_keywords={"Safety": ("caught fire",)})
    assert assign_priority(None, 0.1, ["the stove caught  fire"], NOBODY, rules)[1] == [
        "Starts at normal",
        "Safety wording: 'caught  fire'",
    ]
    assert assign_priority(None, 0.1, ["this is fraud"], NOBODY, rules)[0] == Priority.NORMAL


@pytest.mark.parametrize(
    ("trigger", "level"),
    [
        ("pattern_similarity", Priority.HIGH),  # normal -> high
        ("sentiment", Priority.URGENT),  # high -> urgent
    ],
)
def test_a_vip_goes_up_one_step(trigger, level):
    vip = {"attributes": {"vip": True}}
    got, reasons = assign_priority(trigger, 0.1, CALM, vip, RULES)
    assert got == level
    assert reasons[-1].startswith("VIP customer: ")


def test_a_low_vip_goes_to_at_least_high():
    rules = PriorityRules(trigger_levels={"pattern_similarity": "low"})
    level, reasons = assign_priority("pattern_similarity", 0.1, CALM, {"attributes": {"vip": "yes"}}, rules)
    assert (level, reasons[-1]) == (Priority.HIGH, "VIP customer: low -> high")


def test_an_urgent_vip_stays_urgent():
    level, reasons = assign_priority(None, 0.95, CALM, {"attributes": {"vip": 1}}, RULES)
    assert (level, reasons[-1]) == (Priority.URGENT, "VIP customer (already urgent)")


@pytest.mark.parametrize(
    ("customer", "vip"),
    [
        ({"attributes": {"vip": True}}, True),
        ({"attributes": {"vip": "true"}}, True),
        ({"attributes": {"vip": "Gold"}}, True),
        ({"attributes": {"vip": 1}}, True),
        ({"vip": True}, True),  # a bare attributes dict
        ({"attributes": {"vip": False}}, False),
        ({"attributes": {"vip": "no"}}, False),
        ({"attributes": {"vip": "0"}}, False),
        ({"attributes": {"vip": ""}}, False),
        ({"attributes": {"vip": None}}, False),
        ({"attributes": {}}, False),
        ({}, False),
    ],
)
def test_the_vip_flag(customer, vip):
    assert is_vip(customer, "vip") is vip


def test_the_vip_attribute_name_comes_from_the_rules():
    rules = PriorityRules(vip_attribute="tier_gold")
    assert assign_priority(None, 0.1, CALM, {"attributes": {"tier_gold": True}}, rules)[0] == Priority.HIGH
    assert assign_priority(None, 0.1, CALM, {"attributes": {"vip": True}}, rules)[0] == Priority.NORMAL


def test_all_reasons_in_order():
    level, reasons = assign_priority(
        "sentiment", 0.95, ["someone made an unauthorized charge", "I will call the police"], {"vip": True}, RULES
    )
    assert level == Priority.URGENT
    assert reasons == [
        "Frustrated: starts at high",
        "Security/fraud wording: 'unauthorized charge'",
        "Legal wording: 'police'",
        "Very negative sentiment (0.95)",
        "VIP customer (already urgent)",
    ]


def test_the_rules_are_a_strict_frozen_config_section():
    with pytest.raises(ValidationError, match="extra"):
        PriorityRules(urgent_negativ=0.8)
    with pytest.raises(ValidationError, match="high_negative"):
        PriorityRules(high_negative=0.95, urgent_negative=0.9)
    with pytest.raises(ValidationError):
        PriorityRules(trigger_levels={"sentiment": "critical"})
    with pytest.raises(ValidationError):
        RULES.urgent_negative = 0.5  # type: ignore[misc]


def test_a_case_type_raises_the_level_to_the_one_the_deployment_gives_it() -> None:
    level, reasons = assign_priority(
        "pattern_similarity", 0.1, ["the stove burned my son"], {}, PriorityRules(), case=("an injury", Priority.URGENT)
    )
    assert level == Priority.URGENT
    assert "A case about an injury: urgent" in reasons


def test_a_case_type_never_lowers_the_level() -> None:
    level, _ = assign_priority(
        "sentiment", 0.1, ["refund my exception"], {}, PriorityRules(), case=("an exception to policy", Priority.NORMAL)
    )
    assert level == Priority.HIGH
