"""Engine, sessions and the transaction helper every service uses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

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
    return _postgres_engine(url)


@lru_cache
def read_engine_for(url: str) -> Engine:
    """The engine of `read_session` on PostgreSQL: autocommit, so a read is one round trip (no
    BEGIN before it, no COMMIT after it). Its own pool, autocommit from the connect: switching a
    shared connection to autocommit for a read meant switching it back on return, and when the
    connection had died meanwhile (a PostgreSQL restart) SQLAlchemy's reset raised the driver's
    raw error and the pool lost the slot for good (tests/reliability/test_dropped_connections.py).
    The two pools only open connections on demand, so a worker's total stays what it uses."""
    if is_sqlite_url(url):
        return engine_for(url)
    return _postgres_engine(url, isolation_level="AUTOCOMMIT")


def _postgres_engine(url: str, **options: Any) -> Engine:
    # pool_size covers a worker's usual concurrency: connections above it are closed on return,
    # and under load that meant a new PostgreSQL backend per request (see bench/RESULTS.md).
    # No pool_pre_ping: it cost a round trip on every checkout. Connections idle for a while are
    # pinged instead (_ping_idle_connections), and a connection that breaks mid-request makes
    # SQLAlchemy discard the whole pool (disconnect detection), so the app recovers from a
    # PostgreSQL restart after at most one 503 per in-flight request (docs/decisions/benchmark.md).
    settings = get_settings()
    engine = sa.create_engine(
        url, pool_size=settings.DB_POOL_SIZE, max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=10, pool_recycle=POOL_RECYCLE_SECONDS, **options,
    )
    _ping_idle_connections(engine)
    return engine


# A connection unused for this long is pinged before use: a busy pool pays nothing, a pool that
# sat idle through a PostgreSQL restart or a firewall's idle cut-off does not hand out a dead one.
IDLE_PING_SECONDS = 10.0
POOL_RECYCLE_SECONDS = 1800


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as exc:  # any failure here means the connection is unusable
            # The pool discards this connection and checks out (or opens) another one.
            raise sa.exc.DisconnectionError() from exc


def get_engine() -> Engine:
    return engine_for(get_settings().DATABASE_URL)


def get_read_engine() -> Engine:
    return read_engine_for(get_settings().DATABASE_URL)


def all_engines() -> tuple[Engine, ...]:
    """Each engine the app uses, once (on SQLite reads share the one engine)."""
    return tuple(dict.fromkeys((get_engine(), get_read_engine())))


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
        finally:
            if write:
                _bump_write_generation()


# Counts this process's finished transactions: a cache of database reads (the public events
# list) compares it to know that something may have changed since it stored an answer.
_write_generation = 0


def _bump_write_generation() -> None:
    global _write_generation
    _write_generation += 1


def write_generation() -> int:
    return _write_generation


@contextmanager
def read_session() -> Iterator[Session]:
    """Reads outside a transaction on PostgreSQL (autocommit: each statement is its own snapshot,
    as it already was under READ COMMITTED). Only reads belong here: nothing is rolled back."""
    if is_sqlite():
        with transaction(write=False) as session:
            yield session
        return
    with Session(get_read_engine(), expire_on_commit=False) as session:
        yield session


Row = TypeVar("Row")


def reread(model: type[Row], row_id: int) -> Row:
    """A row as it stands now, after the transaction that changed it (and a gateway call made
    after that commit) ended."""
    with read_session() as session:
        stored = session.get(model, row_id)
        assert stored is not None
        return stored


def lock_for_update(session: Session, statement: Any, *, skip_locked: bool = False,
                    key_share: bool = False) -> Any:
    """Row lock on PostgreSQL; SQLite already serialises writers with BEGIN IMMEDIATE.

    `key_share` takes FOR NO KEY UPDATE (the lock an UPDATE of non-key columns takes), which
    does not wait for rows being inserted that merely reference the locked row."""
    if session.get_bind().dialect.name == "sqlite":
        return statement
    return statement.with_for_update(skip_locked=skip_locked, key_share=key_share)
