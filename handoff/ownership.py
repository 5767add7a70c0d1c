"""Who owns a conversation, and the one small state machine through which ownership changes."""

from __future__ import annotations

from enum import StrEnum


class Owner(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    CLOSED = "closed"


class IllegalTransition(ValueError):
    """A change of owner that the state machine does not allow."""

    def __init__(self, current: Owner, target: Owner) -> None:
        super().__init__(f"a conversation cannot go from {current.value!r} to {target.value!r}")
        self.current = current
        self.target = target


# bot -> queued (handoff) -> agent (accepted) -> bot (returned) or closed (resolved).
# queued -> bot: the customer withdrew or nobody could take it; agent -> queued: transferred to a team queue;
# closed -> bot: the customer wrote again after the chat was resolved.
ALLOWED: dict[Owner, frozenset[Owner]] = {
    Owner.BOT: frozenset({Owner.QUEUED, Owner.CLOSED}),
    Owner.QUEUED: frozenset({Owner.AGENT, Owner.BOT, Owner.CLOSED}),
    Owner.AGENT: frozenset({Owner.BOT, Owner.QUEUED, Owner.CLOSED}),
    Owner.CLOSED: frozenset({Owner.BOT}),
}


def transition(current: Owner | str, target: Owner | str) -> Owner:
    """Return the new owner, or raise IllegalTransition."""
    current, target = Owner(current), Owner(target)
    if target not in ALLOWED[current]:
        raise IllegalTransition(current, target)
    return target
