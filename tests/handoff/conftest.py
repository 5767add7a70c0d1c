"""Fixtures of the handoff tests: a conversation store on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from handoff.store import ConversationStore

S = TypeVar("S", bound=ConversationStore)


@pytest.fixture
def open_store(tmp_path) -> Iterator[Callable[[type[S]], S]]:
    """Opens a store of the given class (a subclass may add a seam) with its schema, and closes it after the test."""
    opened: list[ConversationStore] = []

    def open_(kind: type[S] = ConversationStore) -> S:  # type: ignore[assignment]  # the default is the base class
        store = kind(f"sqlite:///{tmp_path / f'store-{len(opened)}.db'}")
        store.create_schema()
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store):
    return open_store()
