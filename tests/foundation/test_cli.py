"""The admin CLI: python -m crm_booking ..."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.api import login, unique_email


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crm_booking", *args], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": database_url}, timeout=120)


def test_create_user_with_role_then_log_in(api, database_url):
    email = unique_email("cli")
    result = _cli(database_url, "create-user", "--email", email, "--name", "Cli Facilitator",
                  "--role", "facilitator", "--password", "password123")
    assert result.returncode == 0, result.stderr
    assert "Created facilitator" in result.stdout
    account = login(api, email)
    assert api.get("/profile", headers=account.headers).json()["role"] == "facilitator"


def test_generated_password_is_printed_once(api, database_url):
    email = unique_email("cli")
    result = _cli(database_url, "create-user", "--email", email, "--name", "Generated")
    assert result.returncode == 0
    password = result.stdout.split("Generated password: ")[1].strip()
    assert login(api, email, password).id


def test_promote_registered_user(api, database_url):
    email = unique_email("promote")
    api.post("/auth/register", json={"email": email, "password": "password123", "name": "Soon Facilitator"})
    result = _cli(database_url, "promote", "--email", email)
    assert result.returncode == 0 and "is now facilitator" in result.stdout
    account = login(api, email)
    created = api.post("/events", headers=account.headers, json={
        "title": "Promoted", "event_type": "workshop", "start_datetime": "2031-01-01T10:00:00",
        "end_datetime": "2031-01-01T12:00:00", "location": "Hall", "max_participants": 5, "price": 10})
    assert created.status_code == 201


def test_cli_errors_are_readable(database_url):
    missing = _cli(database_url, "promote", "--email", unique_email("nobody"))
    assert missing.returncode == 2 and "User not found" in missing.stderr
    email = unique_email("dup")
    assert _cli(database_url, "create-user", "--email", email, "--name", "A", "--password", "password123").returncode == 0
    duplicate = _cli(database_url, "create-user", "--email", email, "--name", "B", "--password", "password123")
    assert duplicate.returncode == 2 and "Email already exists" in duplicate.stderr


def test_migrate_and_seed_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    assert _cli(url, "migrate").returncode == 0
    first = _cli(url, "seed")
    assert first.returncode == 0 and "facilitator@example.com" in first.stdout
    second = _cli(url, "seed")
    assert "(0 new records)" in second.stdout
    from sqlmodel import Session, select

    from crm_booking.db import engine_for
    from crm_booking.models import Event

    with Session(engine_for(url)) as session:
        kinds = {e.event_type for e in session.exec(select(Event)).all()}
    assert kinds == {"session", "workshop", "retreat"}
