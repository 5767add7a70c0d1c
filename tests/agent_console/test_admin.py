"""Live tuning: thresholds change without a restart (API and file watch), every change is logged, shadow mode records."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.bot.chat_client import hello, is_type, say, until
from tests.fakes import FakeAnalyzer


@pytest.fixture(autouse=True)
def admin_password(monkeypatch):
    monkeypatch.setenv("ESCALATOR_ADMIN_PASSWORD", "admin-password-1")


def admin_headers(client):
    token = client.post("/api/agent/login", json={"username": "admin", "password": "admin-password-1"}).json()["token"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}


def test_thresholds_change_through_the_api_apply_at_once_and_are_logged(make_app):
    with TestClient(make_app()) as client:
        headers = admin_headers(client)
        client.app.state.services.agents.set_status("admin", "online")
        before = client.get("/api/agent/admin/thresholds", headers=headers).json()
        assert before["active"]["explicit_request"]["enabled"] is True and before["changes"] == []
        # Switch the explicit-request detector off: asking for a person no longer escalates.
        changed = client.put(
            "/api/agent/admin/thresholds", headers=headers, json={"explicit_request": {"enabled": False}}
        )
        assert changed.status_code == 200
        with client.websocket_connect("/ws/chat") as ws:
            hello(ws)
            until(ws, is_type("state"))
            say(ws, "can I talk to a human please")
            reply, seen = until(ws, lambda f: f.get("sender") == "bot" and f["seq"] > 1)
            assert all(f.get("type") != "state" for f in seen)
        log = client.get("/api/agent/admin/thresholds", headers=headers).json()["changes"]
        assert len(log) == 1 and log[0]["actor"] == "agent:admin" and log[0]["target"] == "active"
        assert (
            log[0]["old"]["explicit_request"]["enabled"] is True
            and log[0]["new"]["explicit_request"]["enabled"] is False
        )


def test_invalid_thresholds_are_refused_naming_the_key_and_nothing_changes(make_app):
    with TestClient(make_app()) as client:
        headers = admin_headers(client)
        bad = client.put("/api/agent/admin/thresholds", headers=headers, json={"sentiment": {"trend": 3}})
        assert bad.status_code == 422 and "sentiment.trend" in bad.json()["detail"]
        unknown = client.put("/api/agent/admin/thresholds", headers=headers, json={"telepathy": {"threshold": 0.1}})
        assert unknown.status_code == 422 and "telepathy" in unknown.json()["detail"]
        assert client.get("/api/agent/admin/thresholds", headers=headers).json()["changes"] == []


def test_only_admins_may_tune(make_app):
    with TestClient(make_app()) as client:
        headers = admin_headers(client)
        client.post(
            "/api/agent/agents", headers=headers, json={"id": "ana", "display_name": "Ana", "password": "ana-password"}
        )
        token = client.post("/api/agent/login", json={"username": "ana", "password": "ana-password"}).json()["token"]
        client.cookies.clear()
        ana = {"Authorization": f"Bearer {token}"}
        assert client.put("/api/agent/admin/thresholds", headers=ana, json={}).status_code == 403
        assert client.get("/api/agent/admin/thresholds").status_code == 401


def test_shadow_thresholds_are_recorded_but_never_acted_on(make_app):
    with TestClient(make_app()) as client:
        headers = admin_headers(client)
        shadow = client.put("/api/agent/admin/shadow", headers=headers, json={"explicit_request": {"enabled": False}})
        assert shadow.status_code == 200
        client.app.state.services.agents.set_status("admin", "online")
        with client.websocket_connect("/ws/chat") as ws:
            hello(ws)
            until(ws, is_type("state"))
            say(ws, "let me talk to a real person")
            state, _ = until(ws, is_type("state"))
            assert state["state"] == "queued"  # the active thresholds decide
        report = client.get("/api/agent/admin/shadow/report", headers=headers).json()
        assert report == {"turns_judged": 1, "would_escalate_more": 0, "would_escalate_less": 1}
        assert client.delete("/api/agent/admin/shadow", headers=headers).json()["shadow"] is None


def test_thresholds_reload_when_the_config_file_changes(make_settings, tmp_path):
    from escalator.app import create_app

    config = tmp_path / "escalator.toml"
    config.write_text("[detectors.explicit_request]\nthreshold = 0.5\n", encoding="utf-8")
    app = create_app(make_settings(), analyzer=FakeAnalyzer(), entity_nlp=None, config_file=config)
    with TestClient(app) as client:
        log = client.app.state.services.threshold_log
        assert log.watching.wait(15)
        config.write_text("[detectors.explicit_request]\nthreshold = 0.8\n", encoding="utf-8")
        assert log.wait_for(lambda log: log.live.current.explicit_request.threshold == 0.8, timeout=15)
        config.write_text("[detectors.explicit_request]\nthreshold = 7\n", encoding="utf-8")  # invalid: refused
        assert log.wait_for(lambda log: log.rejected == 1, timeout=15)
        assert log.live.current.explicit_request.threshold == 0.8
        assert [c["actor"] for c in log.history()] == [f"file:{config}"]
