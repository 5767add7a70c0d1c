"""Requests the rules refuse: the caller's mistakes, which the web layer answers with 4xx. Other failures are the
service's own and never look like the caller's."""

from __future__ import annotations


class InvalidRequest(ValueError):
    """The request names something that does not exist, or asks for something the rules refuse."""


class NotAllowed(PermissionError):
    """The agent may not do this to this ticket (403)."""
