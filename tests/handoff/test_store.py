import threading

import pytest
from sqlalchemy import text

from handoff.ownership import IllegalTransition, Owner
from handoff.store import BotMayNotSpeak, ConversationNotFound


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(store):
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_sequence_numbers_start_at_one_and_have_no_holes(store):
    info, _ = store.start()
    seqs = [store.add_customer_message(info.id, f"m{i}", f"hello {i}")[0].seq for i in range(3)]
    seqs.append(store.add_message(info.id, "bot", "hi").seq)
    assert seqs == [1, 2, 3, 4]
    assert [m.seq for m in store.messages_after(info.id, 0)] == [1, 2, 3, 4]
    assert [m.seq for m in store.messages_after(info.id, 2)] == [3, 4]


def test_duplicate_client_msg_id_stores_nothing_new_and_spends_no_seq(store):
    info, _ = store.start()
    first, created = store.add_customer_message(info.id, "same", "hello")
    again, created_again = store.add_customer_message(info.id, "same", "hello (retry)")
    assert created and not created_again
    assert again.seq == first.seq and again.text == "hello"
    assert store.add_customer_message(info.id, "next", "next")[0].seq == 2  # no hole left behind
    assert len(store.messages_after(info.id)) == 2


def test_same_client_msg_id_in_two_conversations_is_two_messages(store):
    a, _ = store.start()
    b, _ = store.start()
    assert store.add_customer_message(a.id, "x", "hi")[1]
    assert store.add_customer_message(b.id, "x", "hi")[1]


def test_concurrent_writers_get_distinct_gap_free_seqs(store):
    info, _ = store.start()
    errors = []

    def write(worker):
        try:
            for i in range(10):
                store.add_customer_message(info.id, f"w{worker}-{i}", "text")
                store.add_customer_message(info.id, f"w{worker}-{i}", "text")  # a retry
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [m.seq for m in store.messages_after(info.id)] == list(range(1, 61))


def test_resume_needs_the_right_token(store):
    info, token = store.start({"name": "Ada"})
    assert store.resume(info.id, token).customer == {"name": "Ada"}
    assert store.resume(info.id, "wrong") is None
    assert store.resume(info.id, None) is None
    assert store.resume("nope", token) is None


def test_token_is_stored_only_as_a_hash(store):
    info, token = store.start()
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT resume_token_hash FROM conversations")).scalar()
    assert token not in stored and len(stored) == 64


def test_bot_may_speak_only_while_it_owns_the_conversation(store):
    info, _ = store.start()
    store.change_owner(info.id, Owner.QUEUED, "asked for a person")
    with pytest.raises(BotMayNotSpeak):
        store.add_message(info.id, "bot", "I can help!")
    assert store.messages_after(info.id) == []
    assert store.add_message(info.id, "system", "queued").seq == 1  # nothing was spent by the refusal


def test_change_owner_records_history_and_refuses_illegal_moves(store):
    info, _ = store.start()
    assert store.change_owner(info.id, Owner.QUEUED, "asked for a person") == (Owner.BOT, Owner.QUEUED)
    with pytest.raises(IllegalTransition):
        store.change_owner(info.id, Owner.QUEUED, "again")
    store.change_owner(info.id, Owner.AGENT, "accepted", actor="agent:ana", agent_name="Ana")
    assert store.get(info.id).agent_name == "Ana"
    assert store.owner_history(info.id) == [("bot", "queued", "asked for a person"), ("queued", "agent", "accepted")]


def test_change_owner_with_expected_owner_is_a_compare_and_set(store):
    info, _ = store.start()
    store.change_owner(info.id, Owner.QUEUED)
    with pytest.raises(IllegalTransition):
        store.change_owner(info.id, Owner.CLOSED, expected=Owner.AGENT)
    assert store.get(info.id).state is Owner.QUEUED


def test_unknown_conversation_is_a_lookup_error(store):
    with pytest.raises(ConversationNotFound):
        store.add_customer_message("nope", "m", "hi")
    with pytest.raises(ConversationNotFound):
        store.get("nope")


def test_analysis_is_stored_beside_the_message(store):
    info, _ = store.start()
    message, _ = store.add_customer_message(info.id, "m", "hi")
    store.set_analysis(info.id, message.seq, {"negative": 0.1})
    assert store.messages_after(info.id)[0].analysis == {"negative": 0.1}
