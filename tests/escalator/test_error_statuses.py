"""Which failures look like the caller's: only the ones the rules name. Anything else is a 500 with a reference
that finds it in the log, so that a bug is never reported to a client as its own mistake."""

from __future__ import annotations

import logging

from starlette.testclient import TestClient

from handoff.errors import InvalidRequest, NotAllowed


def raising(error: Exception):
    async def route() -> None:
        raise error

    return route


def test_rule_errors_get_their_status_and_anything_else_a_500_with_a_reference(make_app, caplog):
    app = make_app()
    # Routes of the test's own, so that each kind of failure can be raised on purpose through the real handlers.
    for path, error in {
        "/t/invalid": InvalidRequest("a password needs at least 8 characters"),
        "/t/forbidden": NotAllowed("not yours"),
        "/t/value": ValueError("an internal bug that happens to be a ValueError"),
        "/t/key": KeyError("missing"),
    }.items():
        app.add_api_route(path, raising(error), methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR, "escalator"):
        invalid = client.get("/t/invalid")
        assert invalid.status_code == 422 and invalid.json() == {"detail": "a password needs at least 8 characters"}
        assert client.get("/t/forbidden").status_code == 403
        for path in ("/t/value", "/t/key"):
            failed = client.get(path)
            assert failed.status_code == 500 and "bug" not in failed.text  # no internals leak to the client
            reference = failed.json()["detail"].rsplit(" ", 1)[-1]
            assert len(reference) == 12 and reference in caplog.text
