"""Opening the database: an engine with SQLite made durable and safe for concurrent writers."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool


def open_engine(url: str) -> Engine:
    """Create the engine for `url`; SQLite gets WAL, a busy timeout, full fsync and immediate transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    if parsed.database is not None and not in_memory:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 10},
        # One shared connection keeps an in-memory database alive across threads.
        poolclass=StaticPool if in_memory else None,
    )
    _make_sqlite_transactional(engine, wal=not in_memory)
    return engine


BEGIN_OPTION = "sqlite_begin"


def reading_engine(engine: Engine) -> Engine:
    """The same database and pool, for read-only sessions: SQLite begins their transactions deferred."""
    return engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})


def affected_rows(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE without RETURNING changed.

    Session.execute returns a CursorResult for those statements (SQLAlchemy's DML docs), but is typed to return the
    base Result, which has no rowcount.
    """
    return cast(CursorResult[Any], result).rowcount


def _make_sqlite_transactional(engine: Engine, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        # FULL: an acknowledged message survives a power cut, not only a crash of the process.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # A write takes the lock up front, so two writers queue on busy_timeout instead of deadlocking. A read
        # (`reading_engine`) begins deferred: under WAL it sees a snapshot and neither waits for nor blocks a writer.
        connection.exec_driver_sql(f"BEGIN {connection.get_execution_options().get(BEGIN_OPTION, 'IMMEDIATE')}")
