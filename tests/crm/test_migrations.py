"""The CRM's Alembic migrations build exactly the tables its models declare, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from crm_service.db import VERSION_TABLE, make_engine, migrate
from crm_service.models import CrmModel


def schema_differences(database_url: str) -> list[object]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            return list(compare_metadata(context, CrmModel.metadata))
    finally:
        engine.dispose()


def table_names(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'crm.db'}"  # the folder is created too
    migrate(url)
    migrate(url)  # a second run is a no-op
    assert table_names(url) == {"notifications", "delivery_attempts", VERSION_TABLE}
    assert schema_differences(url) == []


@pytest.fixture
def fresh_postgres_url(crm_database_url: str) -> str:
    """The session database, migrated (the CRM process may not have started yet)."""
    migrate(crm_database_url)
    return crm_database_url


def test_migrations_match_models_on_postgresql(fresh_postgres_url: str) -> None:
    assert VERSION_TABLE in table_names(fresh_postgres_url)
    assert schema_differences(fresh_postgres_url) == []


def test_deleting_a_notification_deletes_its_attempts_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO notifications (id, booking_id, action, payload, recipients, status, "
                "attempts, created_at) VALUES (1, 5, 'booking_created', '{}', '', 'sent', 1, "
                "'2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO delivery_attempts (notification_id, recipient, attempted_at, success) "
                "VALUES (1, 'a@example.com', '2026-01-01 00:00:00', 1)"
            )
        )
        connection.execute(sa.text("DELETE FROM notifications"))
        remaining = connection.execute(sa.text("SELECT count(*) FROM delivery_attempts")).scalar_one()
    engine.dispose()
    assert remaining == 0
