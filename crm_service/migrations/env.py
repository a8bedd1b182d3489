"""Alembic environment for the CRM service; run through crm_service.db.migrate()."""

import sqlalchemy as sa

from alembic import context
from crm_service.db import VERSION_TABLE, make_engine
from crm_service.models import CrmModel

target_metadata = CrmModel.metadata


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set by crm_service.db.alembic_config()"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _migrate_on(connection)
    finally:
        engine.dispose()


def _migrate_on(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode recreates tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # Renders SQLModel column types as sqltypes.X, matching the import in script.py.mako.
        user_module_prefix="sqltypes.",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("The CRM service migrations run online only (crm_service.db.migrate()).")
run_migrations()
