"""The customer-socket tests' app: the real app on a temporary SQLite file and the fake analyzer."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient


@pytest.fixture
def client(make_app):
    with TestClient(make_app()) as client:
        yield client
