from datetime import timedelta

import pytest
from sqlalchemy import select, update

from handoff.agents import AgentDirectory, AgentNotFound, LoginFailed
from handoff.config import AgentConfig
from handoff.records import AgentRow, AgentSessionRow, utcnow
from handoff.store import ConversationStore


@pytest.fixture
def directory(tmp_path):
    store = ConversationStore(f"sqlite:///{tmp_path / 'agents.db'}")
    store.create_schema()
    yield AgentDirectory(store, session_hours=1, password_memory_kib=64)
    store.close()


def test_passwords_are_argon2_hashes(directory):
    directory.create(AgentConfig(id="ana", display_name="Ana", teams=["orders"]), "correct horse")
    with directory.store.session() as session:
        stored = session.scalar(select(AgentRow.password_hash).where(AgentRow.id == "ana"))
    assert stored.startswith("$argon2") and "correct horse" not in stored


def test_login_logout_and_sessions(directory):
    directory.create(AgentConfig(id="ana", display_name="Ana"), "correct horse")
    agent, token, expires = directory.login("ana", "correct horse")
    assert agent.id == "ana" and expires > utcnow()
    assert directory.authenticate(token).id == "ana"
    assert directory.logout(token) == "ana"
    assert directory.authenticate(token) is None


@pytest.mark.parametrize(("user", "password"), [("ana", "wrong password"), ("nobody", "correct horse")])
def test_wrong_name_or_password_fails_the_same_way(directory, user, password):
    directory.create(AgentConfig(id="ana", display_name="Ana"), "correct horse")
    with pytest.raises(LoginFailed, match="wrong name or password"):
        directory.login(user, password)


def test_sessions_expire(directory):
    directory.create(AgentConfig(id="ana", display_name="Ana"), "correct horse")
    _, token, _ = directory.login("ana", "correct horse")
    with directory.store.session() as session, session.begin():
        session.execute(update(AgentSessionRow).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert directory.authenticate(token) is None
    assert directory.purge_expired_sessions() == 1


def test_first_admin_is_created_once(directory):
    generated = directory.ensure_admin(None)
    assert generated and len(generated) >= 12
    assert directory.login("admin", generated)[0].role == "admin"
    assert directory.ensure_admin(None) is None


def test_admin_password_from_the_environment(directory):
    assert directory.ensure_admin("chosen-secret") is None
    assert directory.login("admin", "chosen-secret")[0].is_supervisor


def test_config_upsert_keeps_password_and_status(directory):
    directory.create(AgentConfig(id="ana", display_name="Ana"), "correct horse")
    directory.set_status("ana", "online")
    directory.upsert(AgentConfig(id="ana", display_name="Ana B.", teams=["billing"], max_chats=5))
    agent = directory.get("ana")
    assert (agent.display_name, agent.teams, agent.max_chats, agent.status) == ("Ana B.", ("billing",), 5, "online")
    assert directory.login("ana", "correct horse")


def test_status_is_validated_and_unknown_agents_are_lookup_errors(directory):
    directory.create(AgentConfig(id="ana", display_name="Ana"), "correct horse")
    with pytest.raises(ValueError, match="online"):
        directory.set_status("ana", "sleeping")
    with pytest.raises(AgentNotFound):
        directory.get("bo")


def test_short_passwords_are_refused(directory):
    directory.upsert(AgentConfig(id="ana", display_name="Ana"))
    with pytest.raises(ValueError, match="8 characters"):
        directory.set_password("ana", "short")
