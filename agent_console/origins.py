"""Which pages may open our websockets: CORS does not cover websockets, so the handshake checks Origin itself."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def origin_allowed(origin: str | None, host: str, allowed: Iterable[str] = ()) -> bool:
    """Our own origin (the page's host is the Host we were reached at) and the `allowed` ones ("*" for any).

    A client without Origin is not a browser, so cross-site hijacking does not apply to it.
    """
    if origin is None:
        return True
    allowed = tuple(allowed)
    if "*" in allowed or origin in allowed:
        return True
    return host != "" and urlsplit(origin).netloc == host
