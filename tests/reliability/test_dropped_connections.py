"""A PostgreSQL backend that dies while a request holds its connection (a restart, a failover,
an administrator's pg_terminate_backend) costs that request a 503, and nothing more: the error is
one the API maps to 503, and the pool gets its slot back.

A CI run saw a 500 here: the autocommit read session's connection died, and SQLAlchemy's reset
of the connection's isolation level on return raised the driver's own error (not SQLAlchemy's),
after which the pool never took the connection back."""

from __future__ import annotations

import psycopg2
import pytest
import sqlalchemy as sa

from crm_booking import db


def _terminate(backend_pid: int, database_url: str) -> None:
    dsn = sa.make_url(database_url)
    admin = psycopg2.connect(host=dsn.host, port=dsn.port, user=dsn.username, dbname=dsn.database)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
    admin.close()


def _checked_out() -> int:
    return sum(engine.pool.checkedout()  # type: ignore[attr-defined]
               for engine in db.all_engines())


@pytest.mark.parametrize("session_factory", ["read_session", "transaction"])
def test_backend_killed_during_a_session_is_a_mapped_error_and_frees_the_pool(
        database_url: str, session_factory: str) -> None:
    open_session = getattr(db, session_factory)
    before = _checked_out()
    with pytest.raises((sa.exc.OperationalError, sa.exc.InterfaceError)), open_session() as session:
        backend_pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(backend_pid, database_url)
        session.execute(sa.text("SELECT 1"))
    assert _checked_out() == before, "the dead connection's pool slot was never given back"
    with open_session() as session:  # and the next request gets a working connection
        assert session.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_backend_killed_between_statements_of_a_read_is_a_mapped_error(database_url: str) -> None:
    """The CI case exactly: the read's last statement succeeded, the backend died before the
    session handed its connection back."""
    before = _checked_out()
    try:
        with db.read_session() as session:
            backend_pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            _terminate(backend_pid, database_url)
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        pass  # a mapped error is acceptable; a raw driver error is not
    assert _checked_out() == before
    # Nothing noticed the death yet, so the dead connection went back to the pool (no ping on
    # every checkout, by design): the next read may fail once, mapped, and that failure makes
    # SQLAlchemy discard the pool, so the read after it works.
    assert _read_one_within_two_tries() == 1


def _read_one_within_two_tries() -> int:
    for _ in range(2):
        try:
            with db.read_session() as session:
                return int(session.execute(sa.text("SELECT 1")).scalar_one())
        except sa.exc.OperationalError:
            continue
    raise AssertionError("reads did not recover after one failure")
