"""The floor for any Python service: the same two operations as the Booking app, done as plainly
as Python allows (Starlette + asyncpg, no ORM, no validation framework). Benchmark only; the
product never imports it.

    BENCH_DSN=postgresql://... JWT_SECRET_KEY=... uvicorn bench.minimal_service:app
"""

from __future__ import annotations

import json
import os
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

POOL: dict[str, asyncpg.Pool] = {}

BOOKING_STATEMENTS = {
    "user": "SELECT id, name, email, is_active FROM users WHERE id = $1",
    "event": "SELECT id, facilitator_id, title, start_at, end_at, timezone, location, virtual_link, "
             "price, currency, is_active, cancelled_at, deleted_at FROM events WHERE id = $1",
    "already": "SELECT id FROM bookings WHERE user_id = $1 AND event_id = $2 AND status = 'confirmed'",
    "lapsed": "SELECT id FROM bookings WHERE status = 'confirmed' "
              "AND payment_status IN ('pending', 'failed') "
              "AND hold_expires_at IS NOT NULL AND hold_expires_at <= now() AND event_id = $1 FOR UPDATE",
    "seat": "UPDATE events SET seats_taken = seats_taken + 1 "
            "WHERE id = $1 AND seats_taken < max_participants",
    "insert": "INSERT INTO bookings (user_id, event_id, status, payment_status, amount, currency, "
              "created_at, updated_at) VALUES ($1, $2, 'confirmed', $3, $4, $5, $6, $6) RETURNING id",
    "reference": "UPDATE bookings SET booking_reference = $2 WHERE id = $1",
    "outbox": "INSERT INTO outbox (idempotency_key, action, booking_id, payload, status, attempts, "
              "next_attempt_at, created_at) VALUES ($1, 'booking_created', $2, $3, 'sent', 0, $4, $4)",
}

EVENTS_PAGE = """
SELECT e.id, e.title, e.description, e.event_type, e.start_at, e.end_at, e.location, e.virtual_link,
       e.max_participants, e.price, e.currency, e.is_active, e.created_at,
       u.id AS facilitator_id, u.name AS facilitator_name, u.email AS facilitator_email,
       (SELECT count(b.id) FROM bookings b
        WHERE b.event_id = e.id AND b.status IN ('confirmed', 'completed')
          AND (b.payment_status NOT IN ('pending', 'failed') OR b.hold_expires_at IS NULL
               OR b.hold_expires_at > now())) AS held
FROM events e JOIN users u ON u.id = e.facilitator_id
WHERE e.deleted_at IS NULL ORDER BY e.start_at, e.id LIMIT $1 OFFSET $2
"""


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _user_id(request: Request) -> int | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    try:
        claims = jwt.decode(header[7:], os.environ["JWT_SECRET_KEY"], algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return int(claims["sub"]) if claims.get("type") == "access" else None


async def create_booking(request: Request) -> JSONResponse:
    user_id = _user_id(request)
    if user_id is None:
        return _error(401, "Unauthorized")
    event_id = int((await request.json())["event_id"])
    async with POOL["db"].acquire() as connection, connection.transaction():
        return await _book(connection, user_id, event_id)


async def _book(connection: asyncpg.Connection, user_id: int, event_id: int) -> JSONResponse:
    user = await connection.fetchrow(BOOKING_STATEMENTS["user"], user_id)
    event = await connection.fetchrow(BOOKING_STATEMENTS["event"], event_id)
    if user is None or event is None:
        return _error(404, "Not found")
    if await connection.fetchval(BOOKING_STATEMENTS["already"], user_id, event_id) is not None:
        return _error(400, "You already have a booking for this event")
    await connection.fetch(BOOKING_STATEMENTS["lapsed"], event_id)
    if await connection.execute(BOOKING_STATEMENTS["seat"], event_id) != "UPDATE 1":
        return _error(400, "Event is full")
    now = datetime.now(UTC)
    paid = event["price"] > 0
    booking_id = await connection.fetchval(
        BOOKING_STATEMENTS["insert"], user_id, event_id, "pending" if paid else "completed",
        event["price"], event["currency"], now)
    reference = f"MIN{now.year}{booking_id:03d}"
    await connection.execute(BOOKING_STATEMENTS["reference"], booking_id, reference)
    facilitator = await connection.fetchrow(BOOKING_STATEMENTS["user"], event["facilitator_id"])
    payload = {"booking_id": booking_id, "booking_reference": reference, "action": "booking_created",
               "user": {"id": user["id"], "name": user["name"], "email": user["email"]},
               "event": {"id": event["id"], "title": event["title"],
                         "facilitator_name": facilitator["name"],
                         "start_datetime": event["start_at"].isoformat()}}
    await connection.execute(BOOKING_STATEMENTS["outbox"], f"minimal-{booking_id}", booking_id,
                             json.dumps(payload), now)
    return JSONResponse({"message": "Booking created successfully", "booking": {
        "id": booking_id, "booking_reference": reference, "event_id": event_id,
        "event_title": event["title"], "status": "confirmed",
        "payment_status": "pending" if paid else "completed", "amount": float(event["price"]),
        "currency": event["currency"], "created_at": now.isoformat()}}, status_code=201)


def _event_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"], "title": row["title"], "description": row["description"],
        "event_type": row["event_type"], "start_datetime": row["start_at"].isoformat(),
        "end_datetime": row["end_at"].isoformat(), "location": row["location"],
        "virtual_link": row["virtual_link"], "max_participants": row["max_participants"],
        "current_participants": row["held"], "price": float(row["price"]),
        "currency": row["currency"], "is_active": row["is_active"],
        "facilitator": {"id": row["facilitator_id"], "name": row["facilitator_name"],
                        "email": row["facilitator_email"]},
        "created_at": row["created_at"].isoformat(),
    }


async def list_events(request: Request) -> JSONResponse:
    limit = min(int(request.query_params.get("limit", "50")), 200)
    offset = int(request.query_params.get("offset", "0"))
    rows = await POOL["db"].fetch(EVENTS_PAGE, limit, offset)
    return JSONResponse({"events": [_event_json(row) for row in rows]})


@asynccontextmanager
async def lifespan(_app: Starlette):  # type: ignore[no-untyped-def]
    POOL["db"] = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=30)
    yield
    await POOL["db"].close()


app = Starlette(routes=[Route("/bookings", create_booking, methods=["POST"]),
                        Route("/events", list_events, methods=["GET"])], lifespan=lifespan)
