"""Alembic is the only way the schema changes; it runs on SQLite and PostgreSQL and agrees with
the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from alembic import command
from crm_booking import models  # noqa: F401
from crm_booking.db import engine_for
from crm_booking.launcher import migrate
from crm_booking.settings import PROJECT_ROOT


def _diff(url: str) -> list:
    with engine_for(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": models.include_in_autogenerate})
        return compare_metadata(context, SQLModel.metadata)


def _check_constraints(url: str) -> None:
    engine = engine_for(url)
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    assert {"users", "events", "bookings", "payments", "refunds", "outbox", "revoked_tokens"} <= tables
    names = {c["name"] for c in inspector.get_check_constraints("events")}
    assert "ck_events_seats_within_capacity" in names
    unique = {i["name"] for i in inspector.get_indexes("bookings") if i.get("unique")}
    assert "uq_bookings_one_active_per_user_event" in unique


def test_postgresql_is_migrated_and_matches_models(database_url):
    assert _diff(database_url) == []
    _check_constraints(database_url)
    # The keyword search's trigram indexes are the migration's alone (see models.py).
    inspector = sa.inspect(engine_for(database_url))
    names = {i["name"] for table in ("events", "users") for i in inspector.get_indexes(table)}
    assert names >= models.POSTGRES_ONLY_INDEXES


def test_sqlite_migrates_up_down_up_and_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)
    assert _diff(url) == []
    _check_constraints(url)
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.downgrade(config, "base")
    assert "bookings" not in sa.inspect(engine_for(url)).get_table_names()
    command.upgrade(config, "head")
    assert _diff(url) == []


def test_database_refuses_overselling_even_without_the_service(database_url):
    """The CHECK constraint backs the service: seats_taken can never pass capacity."""
    from datetime import timedelta

    import pytest

    from crm_booking import clock
    from crm_booking.models import Event, Role, User

    engine = engine_for(database_url)
    with engine.begin() as connection:
        user_id = connection.execute(sa.insert(User).values(
            email=f"ck-{clock.now().timestamp()}@example.com", name="Ck", role=Role.FACILITATOR.value,
            is_active=True, is_verified=True, created_at=clock.now(), updated_at=clock.now(),
        ).returning(User.id)).scalar_one()
        event_id = connection.execute(sa.insert(Event).values(
            facilitator_id=user_id, title="Ck", description="", event_type="session",
            start_at=clock.now() + timedelta(days=1), end_at=clock.now() + timedelta(days=1, hours=1),
            timezone="Asia/Kolkata", max_participants=1, seats_taken=1, price=0, currency="INR",
            is_active=True, created_at=clock.now(), updated_at=clock.now(),
        ).returning(Event.id)).scalar_one()
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.update(Event).where(Event.id == event_id).values(seats_taken=2))
