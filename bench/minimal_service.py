"""The floor for any Python service: the same two operations as the Booking app, done as plainly
as Python allows (Starlette + asyncpg, no ORM, no validation framework). A booking replays the
app's own round trips, captured from its engine in the same bench run (bench/capture.py), so the
database work is identical. Benchmark only; the product never imports it.

    BENCH_DSN=postgresql://... BENCH_REPLAY=booking_round_trips.json JWT_SECRET_KEY=... \
        uvicorn bench.minimal_service:app
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.capture import Replay

POOL: dict[str, asyncpg.Pool] = {}
# The app's own booking round trips, captured at the start of the bench run (bench/capture.py):
# the same statements in the same order, BEGIN and COMMIT included, with this request's values.
REPLAY: dict[str, Replay] = {}

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
    async with POOL["db"].acquire() as connection:
        try:
            return await _book(connection, user_id, event_id)
        except asyncpg.UniqueViolationError:
            await connection.execute("ROLLBACK")
            return _error(400, "You already have a booking for this event")
        except BaseException:
            if connection.is_in_transaction():
                await connection.execute("ROLLBACK")
            raise


async def _book(connection: asyncpg.Connection, user_id: int, event_id: int) -> JSONResponse:
    replay = REPLAY["booking"]
    now = datetime.now(UTC)
    values: dict[str, Any] = {"uid": user_id, "eid": event_id, "now": now}
    for step in replay.steps:
        if step["sql"] in ("BEGIN", "COMMIT"):
            await connection.execute(step["sql"])
            continue
        rows = await connection.fetch(step["sql"], *replay.bind(step["args"], values))
        if step["sql"].lstrip().startswith("SELECT") and not rows:  # no such event
            await connection.execute("ROLLBACK")
            return _error(404, "Event not found")
        if step.get("returns_booking_id"):
            values["bid"] = rows[0][0]
        if step["sql"].lstrip().upper().startswith("UPDATE EVENTS") and not rows:
            await connection.execute("ROLLBACK")
            return _error(400, "Event is full")
    booking_id = values["bid"]
    return JSONResponse({"message": "Booking created successfully", "booking": {
        "id": booking_id, "booking_reference": f"BK{now.year}{booking_id:03d}", "event_id": event_id,
        "status": "confirmed", "payment_status": "completed", "created_at": now.isoformat()}},
        status_code=201)


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
    REPLAY["booking"] = Replay.load(Path(os.environ["BENCH_REPLAY"]))
    POOL["db"] = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=30)
    yield
    await POOL["db"].close()


app = Starlette(routes=[Route("/bookings", create_booking, methods=["POST"]),
                        Route("/events", list_events, methods=["GET"])], lifespan=lifespan)
