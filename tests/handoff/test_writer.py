"""The writer: group commit, one savepoint per job, acks first, and nothing queued lost at close."""

from __future__ import annotations

import threading

import pytest

from handoff.store import ConversationNotFound, ConversationStore, NewConversation
from handoff.writer import Writer, WriterStopped


@pytest.fixture
def store(tmp_path):
    store = ConversationStore(f"sqlite:///{tmp_path / 'writer.db'}")
    store.create_schema()
    yield store
    store.close()


def creating(store: ConversationStore, done: list[str] | None = None):
    """A job that stores a new conversation and returns its id (recording the order jobs ran in)."""
    planned, _ = NewConversation.plan({})

    def job(session):
        store.create(session, planned, "hello")
        if done is not None:
            done.append(planned.id)
        return planned.id

    return job


def gate(opened: threading.Event, entered: threading.Event):
    """A job that holds the writer until `opened` is set, so that the next jobs queue up behind it."""

    def job(session):
        entered.set()
        opened.wait(10)

    return job


def test_jobs_that_queue_behind_a_commit_share_the_next_one_up_to_the_cap(store):
    writer = Writer(store.session, max_group=16)
    opened, entered = threading.Event(), threading.Event()
    first = writer.submit(gate(opened, entered))
    entered.wait(10)
    queued = [writer.submit(creating(store)) for _ in range(20)]
    opened.set()
    ids = [future.result(10) for future in queued]
    first.result(10)
    writer.close()
    assert writer.jobs == 21 and writer.commits == 3  # the gate alone, then sixteen together, then four
    assert all(store.get(cid).id == cid for cid in ids)


def test_a_failing_job_fails_alone_and_its_neighbours_commit(store):
    writer = Writer(store.session)
    opened, entered = threading.Event(), threading.Event()
    writer.submit(gate(opened, entered))
    entered.wait(10)
    planned, _ = NewConversation.plan({})

    def half_done(session):
        store.create(session, planned, "hello")
        raise ValueError("changed its mind")

    before = writer.submit(creating(store))
    failing = writer.submit(half_done)
    after = writer.submit(creating(store))
    opened.set()
    with pytest.raises(ValueError, match="changed its mind"):
        failing.result(10)
    kept = [before.result(10), after.result(10)]
    writer.close()
    assert writer.commits == 3  # the gate; then, the group having failed, the two good jobs each alone
    assert all(store.get(cid) for cid in kept)
    with pytest.raises(ConversationNotFound):
        store.get(planned.id)


def test_urgent_jobs_run_before_queued_ones(store):
    writer = Writer(store.session)
    opened, entered = threading.Event(), threading.Event()
    writer.submit(gate(opened, entered))
    entered.wait(10)
    order: list[str] = []
    normal = [writer.submit(creating(store, order)) for _ in range(3)]
    urgent = writer.submit(creating(store, order), urgent=True)
    opened.set()
    assert order.index(urgent.result(10)) == 0
    assert [f.result(10) for f in normal] == order[1:]
    writer.close()


def test_close_commits_what_is_queued_and_refuses_more(store):
    writer = Writer(store.session)
    queued = [writer.submit(creating(store)) for _ in range(5)]
    writer.close()
    assert all(store.get(f.result(0)) for f in queued)
    with pytest.raises(WriterStopped):
        writer.submit(creating(store))
