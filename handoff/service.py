"""Handing a conversation to people: queue it with its reason, and tell the customer where they stand."""

from __future__ import annotations

from typing import Any

from detectors.types import Decision
from handoff.ownership import Owner
from handoff.store import ConversationInfo, ConversationStore, StoredMessage

QUEUED_NOTICE = "I'm passing you to a member of our team, who will see everything we've discussed so far."


class HandoffService:
    """Moves a conversation from the bot to the queue and describes its state to the customer."""

    def __init__(self, store: ConversationStore, seconds_per_position: float = 120.0) -> None:
        self.store = store
        self.seconds_per_position = seconds_per_position

    def escalate(self, conversation_id: str, decision: Decision) -> StoredMessage:
        """Queue the conversation with the primary trigger's reason; return the notice the customer is sent."""
        primary = decision.primary
        reason = primary.reason if primary else "The customer needs a person."
        self.store.change_owner(conversation_id, Owner.QUEUED, reason=reason, actor=f"detector:{decision.trigger}")
        return self.store.add_message(conversation_id, "system", QUEUED_NOTICE)

    def state_frame(self, info: ConversationInfo) -> dict[str, Any]:
        """The protocol's state frame: who owns the chat, and when queued, why, where and how long."""
        frame: dict[str, Any] = {"type": "state", "state": info.state.value}
        if info.state == Owner.QUEUED:
            position = self.store.queue_position(info.id)
            frame.update(reason=info.state_reason, position=position, eta_s=round(position * self.seconds_per_position))
        elif info.state == Owner.AGENT:
            frame["agent"] = info.agent_name
        return frame
