"""backup / restore: a round trip into an empty database gives back every table, row for row."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.api.test_attendee_capabilities import pay_in_sandbox
from tests.conftest import _drop_database, _throwaway_database
from tests.notifications.conftest import current_database
from tests.support.api import book, create_event, new_attendee, new_facilitator
from tests.support.servers import ROOT, free_port

MUST_HAVE_ROWS = {"users", "events", "bookings", "payments", "refunds", "outbox", "alembic_version"}


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crm_booking", *args, "--database-url", database_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": "sqlite:////nonexistent/never-used.db"})


def every_table(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, as plain tuples (timestamps, money and text compared exactly)."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        metadata = sa.MetaData()
        metadata.reflect(engine)
        contents = {}
        with engine.connect() as connection:
            for name in inspector.get_table_names():
                table = metadata.tables[name]
                rows = connection.execute(sa.select(table)).all()
                contents[name] = sorted((tuple(row) for row in rows), key=repr)
        return contents
    finally:
        engine.dispose()


def assert_same(source: dict, restored: dict) -> None:
    assert sorted(restored) == sorted(source)
    for name, rows in source.items():
        assert restored[name] == rows, name


def test_postgresql_round_trip(start_booking, tmp_path: Path):
    # Fill every business table through the API, then stop the app so nothing moves.
    app = start_booking(f"http://127.0.0.1:{free_port()}", name="booking-backup")
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        facilitator = new_facilitator(client, database_url=current_database())
        event = create_event(client, facilitator, price=499)
        paid = new_attendee(client)
        booked = book(client, paid, event["id"])
        pay_in_sandbox(client, booked.json()["payment_url"])
        booking_id = booked.json()["booking"]["id"]
        assert client.post(f"/bookings/{booking_id}/cancel", headers=paid.headers).status_code == 200
        assert book(client, new_attendee(client), event["id"]).status_code == 201
    app.stop()
    source_url = current_database()
    source = every_table(source_url)
    assert all(source[name] for name in MUST_HAVE_ROWS), {n: len(source[n]) for n in MUST_HAVE_ROWS}

    dump = tmp_path / "booking.pgdump"
    made = cli("backup", "--output", str(dump), database_url=source_url)
    assert made.returncode == 0, made.stderr
    assert dump.stat().st_size > 0 and not list(tmp_path.glob("*.partial"))

    empty_url, empty_name = _throwaway_database("booking_restore")
    try:
        restored = cli("restore", str(dump), database_url=empty_url)
        assert restored.returncode == 0, restored.stderr
        assert_same(source, every_table(empty_url))
        # Sequences came back too: a new row gets the next id, not one already taken.
        engine = sa.create_engine(empty_url)
        with engine.begin() as connection:
            top = connection.execute(sa.text("SELECT max(id) FROM users")).scalar_one()
            new_id = connection.execute(sa.text(
                "INSERT INTO users (email, password_hash, name, role, is_active, is_verified, created_at, "
                "updated_at) VALUES (:email, 'x', 'New', 'user', true, false, now(), now()) RETURNING id"),
                {"email": f"{uuid.uuid4().hex}@example.com"}).scalar_one()
        engine.dispose()
        assert new_id > top

        again = cli("restore", str(dump), database_url=empty_url)
        assert again.returncode == 2 and "restore into an empty database" in again.stderr
        assert "Traceback" not in again.stderr
    finally:
        _drop_database(empty_name)


def test_sqlite_round_trip_and_refusals(tmp_path: Path):
    source_url = f"sqlite:///{tmp_path / 'booking.db'}"
    env = {**os.environ, "DATABASE_URL": source_url}
    subprocess.run([sys.executable, "-m", "crm_booking", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    seeded = subprocess.run([sys.executable, "-m", "crm_booking", "seed"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    source = every_table(source_url)
    assert source["users"] and source["events"] and source["alembic_version"]

    copy = tmp_path / "booking.sqlite3"
    made = cli("backup", "--output", str(copy), database_url=source_url)
    assert made.returncode == 0, made.stderr
    assert str(copy) in made.stdout

    exists = cli("backup", "--output", str(copy), database_url=source_url)
    assert exists.returncode == 2 and "already exists" in exists.stderr

    target_url = f"sqlite:///{tmp_path / 'restored' / 'booking.db'}"
    restored = cli("restore", str(copy), database_url=target_url)
    assert restored.returncode == 0, restored.stderr
    assert_same(source, every_table(target_url))

    refused = cli("restore", str(copy), database_url=source_url)
    assert refused.returncode == 2 and "already holds tables" in refused.stderr
    missing = cli("restore", str(tmp_path / "nothing.sqlite3"), database_url=target_url)
    assert missing.returncode == 2 and "no backup file" in missing.stderr
