"""How many new conversations one client address may start: a moving window per address, so a script cannot fill
the database with empty chats while real customers behind the same address still get through."""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class NewConversationLimit:
    """At most `per_minute` new conversations per address. `storage` is a `limits` storage URI: "memory://" for one
    process, "redis://host" to share the count across processes."""

    def __init__(self, per_minute: int, storage: str = "memory://") -> None:
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage))

    def admit(self, address: str) -> float:
        """0 if `address` may start a conversation now (and count it), else the seconds until it may."""
        if self._limiter.hit(self._item, address):
            return 0.0
        reset_at = self._limiter.get_window_stats(self._item, address).reset_time
        return max(0.1, reset_at - time.time())
