"""The benchmark's own PostgreSQL databases: created, migrated and seeded with plain SQL
(generate_series), so even a million bookings take seconds rather than minutes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg2

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
FACILITATORS = 20
BOOKINGS_PER_EVENT = 10  # in the growth datasets; the last two of each are cancelled
LIVE_BOOKINGS_PER_EVENT = BOOKINGS_PER_EVENT - 2


@dataclass
class BenchDatabase:
    name: str
    first_user_id: int = 0
    user_count: int = 0
    facilitator_ids: tuple[int, ...] = ()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.name}"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port=5432 user=postgres dbname={self.name}"

    @property
    def asyncpg_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.name}"

    def connect(self) -> psycopg2.extensions.connection:
        connection = psycopg2.connect(self.dsn)
        connection.autocommit = True
        return connection

    def execute(self, sql: str, params: tuple | dict | None = None) -> list[tuple]:  # type: ignore[type-arg]
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
        connection.close()
        return rows


def _admin(sql: str) -> None:
    connection = psycopg2.connect(ADMIN_DSN)
    connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def create_database(label: str) -> BenchDatabase:
    database = BenchDatabase(f"bench_{label}_{uuid.uuid4().hex[:8]}")
    _admin(f'CREATE DATABASE "{database.name}"')
    return database


def drop_database(database: BenchDatabase) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


def migrated_database(label: str) -> BenchDatabase:
    from crm_booking.launcher import migrate

    database = create_database(label)
    migrate(database.url)
    return database


def seed_people(database: BenchDatabase, users: int) -> None:
    """Facilitators and attendees; attendees get consecutive ids so tokens map to them simply."""
    database.facilitator_ids = tuple(row[0] for row in database.execute(
        """INSERT INTO users (email, name, role, is_active, is_verified, created_at, updated_at)
           SELECT 'bench-facilitator-' || g || '@example.com', 'Facilitator ' || g, 'facilitator',
                  true, true, now(), now()
           FROM generate_series(1, %s) g RETURNING id""", (FACILITATORS,)))
    rows = database.execute(
        """INSERT INTO users (email, name, role, is_active, is_verified, created_at, updated_at)
           SELECT 'bench-user-' || g || '@example.com', 'Bench User ' || g, 'user',
                  true, true, now(), now()
           FROM generate_series(1, %s) g RETURNING id""", (users,))
    ids = sorted(row[0] for row in rows)
    assert ids == list(range(ids[0], ids[0] + users)), "attendee ids are expected to be consecutive"
    database.first_user_id, database.user_count = ids[0], users


def seed_events(database: BenchDatabase, count: int, *, with_bookings: bool = False) -> None:
    """`count` upcoming events over the next year; optionally ten bookings each (eight live)."""
    facilitators = "ARRAY[" + ",".join(map(str, database.facilitator_ids)) + "]"
    seats = LIVE_BOOKINGS_PER_EVENT if with_bookings else 0
    database.execute(
        f"""INSERT INTO events (facilitator_id, title, description, event_type, start_at, end_at,
                               timezone, location, virtual_link, max_participants, seats_taken,
                               price, currency, is_active, created_at, updated_at)
            SELECT ({facilitators})[1 + g %% {len(database.facilitator_ids)}],
                   'Session ' || g, 'A benchmark session',
                   (ARRAY['session','workshop','retreat'])[1 + g %% 3],
                   now() + interval '1 day' + (g %% 360) * interval '1 day' + (g %% 24) * interval '1 hour',
                   now() + interval '1 day' + (g %% 360) * interval '1 day' + (g %% 24) * interval '1 hour'
                         + interval '1 hour',
                   'Asia/Kolkata', 'Studio ' || (g %% 7), NULL, 40, %s,
                   CASE WHEN g %% 2 = 0 THEN 0 ELSE 500 END, 'INR', true, now(), now()
            FROM generate_series(1, %s) g""", (seats, count))
    if with_bookings:
        _seed_bookings(database)
    database.execute("ANALYZE")


def _seed_bookings(database: BenchDatabase) -> None:
    """Ten bookings per event by distinct attendees: eight paid (or free) and confirmed, two
    cancelled. Ids come from the table's own sequence so the app's later ids follow them."""
    database.execute(
        """SET synchronous_commit = off;
           INSERT INTO bookings (id, booking_reference, user_id, event_id, status, payment_status,
                                 amount, currency, paid_at, cancellation_reason, cancelled_at,
                                 created_at, updated_at)
           SELECT s.id, 'BK' || extract(year FROM now())::int
                         || CASE WHEN s.id < 100 THEN lpad(s.id::text, 3, '0') ELSE s.id::text END,
                  %(first)s + ((e.id * 10 + s.k) %% %(users)s), e.id,
                  CASE WHEN s.k < 8 THEN 'confirmed' ELSE 'cancelled' END,
                  CASE WHEN e.price = 0 OR s.k < 8 THEN 'completed' ELSE 'refunded' END,
                  e.price, 'INR', now(),
                  CASE WHEN s.k < 8 THEN NULL ELSE 'user_cancelled' END,
                  CASE WHEN s.k < 8 THEN NULL ELSE now() END, now(), now()
           FROM (SELECT nextval('bookings_id_seq') AS id, ev.id AS event_id, k
                 FROM events ev CROSS JOIN generate_series(0, 9) k) s
           JOIN events e ON e.id = s.event_id""",
        {"first": database.first_user_id, "users": database.user_count})


def mint_tokens(database: BenchDatabase, path: Path) -> list[str]:
    """Access tokens for every attendee, minted in-process with the app's own signer."""
    from crm_booking.models import User
    from crm_booking.services.auth import issue_access_token

    tokens = [issue_access_token(User(id=user_id, email="", name="", role="user"))
              for user_id in range(database.first_user_id, database.first_user_id + database.user_count)]
    path.write_text("\n".join(tokens) + "\n")
    return tokens


def create_hot_event(database: BenchDatabase, *, capacity: int = 10_000_000, price: int = 0,
                     title: str = "Hot event") -> int:
    """An event far in the future (so it never shows on the first events page) with room for
    every booking the benchmark can make."""
    [(event_id,)] = database.execute(
        """INSERT INTO events (facilitator_id, title, description, event_type, start_at, end_at,
                               timezone, location, max_participants, seats_taken, price, currency,
                               is_active, created_at, updated_at)
           VALUES (%s, %s, 'benchmark', 'session', now() + interval '400 days',
                   now() + interval '400 days 1 hour', 'Asia/Kolkata', 'Main hall', %s, 0, %s,
                   'INR', true, now(), now()) RETURNING id""",
        (database.facilitator_ids[0], title, capacity, price))
    return int(event_id)


def sold_seats(database: BenchDatabase, event_id: int) -> tuple[int, int]:
    """(seats_taken on the event row, confirmed booking rows) for the oversell check."""
    [(taken, confirmed)] = database.execute(
        """SELECT e.seats_taken, (SELECT count(*) FROM bookings b
                                  WHERE b.event_id = e.id AND b.status = 'confirmed')
           FROM events e WHERE e.id = %s""", (event_id,))
    return int(taken), int(confirmed)
