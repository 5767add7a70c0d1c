"""Every route is either on the short public list or refuses a caller without an agent session."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

# The customer's side, the pages, the docs and the login itself are public by design.
PUBLIC = {
    "/",
    "/widget.js",
    "/demo.js",
    "/console",
    "/console/{name}",
    "/healthz",
    "/readyz",
    "/docs",
    "/docs/swagger-initializer.js",
    "/docs/openapi.json",
    "/openapi.json",
    "/ws/chat",
    "/api/agent/login",
}


def all_routes(routes):
    """Routes of the app, with included routers opened up (FastAPI keeps them as wrappers)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from all_routes(inner.routes)
        else:
            yield route


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_non_public_route_needs_a_session(make_app):
    with TestClient(make_app()) as client:
        protected_http, protected_ws = [], []
        for route in all_routes(client.app.routes):
            if isinstance(route, Mount):
                assert route.path == "/docs", f"unexpected mount {route.path}: decide whether it is public"
                continue
            if route.path in PUBLIC:
                continue
            if isinstance(route, APIWebSocketRoute):
                protected_ws.append(route.path)
            else:
                assert isinstance(route, APIRoute), route
                protected_http.extend((method, route.path) for method in route.methods)
        assert len(protected_http) >= 20 and protected_ws == ["/ws/agent"]
        for method, path in protected_http:
            response = client.request(method, concrete(path), json={})
            assert response.status_code == 401, f"{method} {path} answered {response.status_code} without a session"
        for path in protected_ws:
            with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(path):
                pass
            assert refused.value.code == 4401


def test_a_wrong_token_is_no_session(make_app):
    with TestClient(make_app()) as client:
        assert client.get("/api/agent/me", headers={"Authorization": "Bearer forged"}).status_code == 401
        client.cookies.set("escalator_session", "forged")
        assert client.get("/api/agent/queue").status_code == 401
