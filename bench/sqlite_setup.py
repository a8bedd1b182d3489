"""An app database on a SQLite file, for the oversell check on SQLite."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa


def prepare(path: Path, *, users: int) -> tuple[str, int, list[str]]:
    """Migrated file with one facilitator and `users` attendees; returns (url, facilitator id,
    one access token per attendee)."""
    from crm_booking.launcher import migrate
    from crm_booking.models import User
    from crm_booking.services.auth import issue_access_token

    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        rows = [{"email": f"bench-{i}@example.com", "name": f"Bench {i}",
                 "role": "facilitator" if i == 0 else "user"} for i in range(users + 1)]
        connection.execute(sa.text(
            "INSERT INTO users (email, name, role, is_active, is_verified, created_at, updated_at) "
            "VALUES (:email, :name, :role, 1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), rows)
        ids = dict(connection.execute(sa.text("SELECT email, id FROM users")).all())
    engine.dispose()
    facilitator = ids["bench-0@example.com"]
    tokens = [issue_access_token(User(id=ids[f"bench-{i}@example.com"], email="", name=""))
              for i in range(1, users + 1)]
    return url, facilitator, tokens
