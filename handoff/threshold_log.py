"""The audit log of live threshold changes: every reload names who made it, when, and the old and new values."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from detectors.thresholds import LiveThresholds, Thresholds
from handoff.records import ThresholdChangeRow
from handoff.store import ConversationStore, _aware


class ThresholdLog:
    def __init__(self, store: ConversationStore, live: LiveThresholds) -> None:
        self.store = store
        self.live = live
        self.changed = threading.Condition()  # notified after every apply that changed something
        self.watching = threading.Event()  # set once a config-file watcher is running (escalator.app)
        self.rejected = 0  # config-file changes refused as invalid since the start

    def apply(
        self, actor: str, active: Thresholds | None = None, shadow: Thresholds | None = None, clear_shadow: bool = False
    ) -> list[dict[str, Any]]:
        """Swap in new active and/or shadow thresholds, logging each real change; return the changes made."""
        changes: list[tuple[str, Thresholds | None, Thresholds | None]] = []  # (target, old, new); None is no shadow
        if active is not None and active != self.live.current:
            changes.append(("active", self.live.current, active))
            self.live.current = active
        if (shadow is not None or clear_shadow) and shadow != self.live.shadow:
            changes.append(("shadow", self.live.shadow, shadow))
            self.live.shadow = shadow
        with self.store.session() as session, session.begin():
            for target, old, new in changes:
                session.add(ThresholdChangeRow(actor=actor, target=target, old=_dump(old), new=_dump(new)))
        if changes:
            with self.changed:
                self.changed.notify_all()
        return [{"target": target, "old": _dump(old), "new": _dump(new)} for target, old, new in changes]

    def reject(self) -> None:
        """Count a change refused as invalid (the running thresholds stay), and wake whoever waits for news."""
        with self.changed:
            self.rejected += 1
            self.changed.notify_all()

    def wait_for(self, test: Callable[[ThresholdLog], bool], timeout: float) -> bool:
        """Block until `test(self)` holds (checked after each change or refusal) or `timeout` seconds pass."""
        with self.changed:
            return self.changed.wait_for(lambda: test(self), timeout)

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.store.reading() as session:
            rows = session.scalars(select(ThresholdChangeRow).order_by(ThresholdChangeRow.id.desc()).limit(limit))
            return [
                {
                    "actor": r.actor,
                    "target": r.target,
                    "old": r.old,
                    "new": r.new,
                    "at": _aware(r.created_at).isoformat(),
                }
                for r in rows
            ]


def _dump(thresholds: Thresholds | None) -> dict[str, Any] | None:
    return thresholds.model_dump() if thresholds is not None else None


def merged(base: Thresholds, changes: dict[str, Any]) -> Thresholds:
    """`base` with the given sections and keys replaced; raises pydantic's ValidationError naming a bad key."""
    data = base.model_dump()
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(data.get(section), dict):
            data[section] = {**data[section], **values}
        else:
            data[section] = values
    return Thresholds.model_validate(data)
