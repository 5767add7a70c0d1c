import itertools

import pytest

from handoff.ownership import ALLOWED, IllegalTransition, Owner, transition

LEGAL = [
    (Owner.BOT, Owner.QUEUED),
    (Owner.BOT, Owner.CLOSED),
    (Owner.QUEUED, Owner.AGENT),
    (Owner.QUEUED, Owner.BOT),
    (Owner.QUEUED, Owner.CLOSED),
    (Owner.AGENT, Owner.BOT),
    (Owner.AGENT, Owner.QUEUED),
    (Owner.AGENT, Owner.CLOSED),
    (Owner.CLOSED, Owner.BOT),
]
ILLEGAL = [pair for pair in itertools.product(Owner, Owner) if pair not in LEGAL]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transition_returns_the_new_owner(current, target):
    assert transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=[f"{a.value}->{b.value}" for a, b in ILLEGAL])
def test_illegal_transition_raises(current, target):
    with pytest.raises(IllegalTransition) as raised:
        transition(current, target)
    assert raised.value.current is current and raised.value.target is target
    assert current.value in str(raised.value) and target.value in str(raised.value)


def test_the_table_is_exactly_the_documented_one():
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == set(LEGAL)


def test_unknown_state_is_rejected():
    with pytest.raises(ValueError):
        transition("bot", "on_hold")
