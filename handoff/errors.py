"""A request that cannot be carried out as asked (an unknown team, a short password): the caller's mistake, which the
web layer answers with 422. Other failures are the service's own and never look like the caller's."""

from __future__ import annotations


class InvalidRequest(ValueError):
    """The request names something that does not exist, or asks for something the rules refuse."""
