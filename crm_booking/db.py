"""Engine, sessions and the transaction helper every service uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_booking.settings import get_settings


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: Engine) -> None:
    """Take over SQLite transactions so a writer can start with BEGIN IMMEDIATE: it then waits
    for the write lock up front instead of failing half-way with 'database is locked'."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


@lru_cache
def engine_for(url: str) -> Engine:
    if is_sqlite_url(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10
        )
        _configure_sqlite(engine)
        return engine
    # pool_size covers a worker's usual concurrency: connections above it are closed on return,
    # and under load that meant a new PostgreSQL backend per request (see bench/RESULTS.md).
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=20, max_overflow=10, pool_timeout=10
    )


def get_engine() -> Engine:
    return engine_for(get_settings().DATABASE_URL)


def is_sqlite() -> bool:
    return get_engine().dialect.name == "sqlite"


@contextmanager
def transaction(*, write: bool = True) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back on any exception.

    Services own their transactions through this helper; nothing outside the services layer
    opens one for writing.
    """
    with Session(get_engine(), expire_on_commit=False) as session:
        if write and is_sqlite():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session() -> Iterator[Session]:
    with transaction(write=False) as session:
        yield session


def lock_for_update(session: Session, statement: Any, *, skip_locked: bool = False) -> Any:
    """Row lock on PostgreSQL; SQLite already serialises writers with BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "sqlite":
        return statement
    return statement.with_for_update(skip_locked=skip_locked)
