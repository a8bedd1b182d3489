"""Bookings of one event take turns: in each worker at most EVENT_BOOKING_CONCURRENCY of them
are inside a database transaction at once; the others wait on the event loop, holding no
thread and no connection.

Every booking of an event ends on that event's row (the seat UPDATE), which one transaction at
a time can hold until its commit. When a launch brings hundreds to one event, the bookings past
the first few only queue on that row lock, each in a worker thread with a connection, and the
extra threads and lock waiters cost CPU in Python (the GIL) and in PostgreSQL's lock manager.
Measured on the hot-event bench (bench/README.md, 32 clients, one worker): 40 threads booking
at once, 200 req/s with p99 ~560 ms; 4 at a time, 270 req/s with p99 150-250 ms.

Each event has its own queue, so a crowd on one event (or a transaction paused while holding
its row) never holds up bookings of another event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from prometheus_client import Gauge
from starlette.concurrency import run_in_threadpool

from crm_booking.settings import get_settings

T = TypeVar("T")

WAITING = Gauge("crm_booking_bookings_waiting_turn",
                "Bookings waiting for their event's turn (EVENT_BOOKING_CONCURRENCY) in this worker",
                multiprocess_mode="livesum")

# One limiter per event with bookings in flight in this worker; dropped when idle. Only the
# event loop touches it (no await between a look-up and its change), so it needs no lock.
_turns: dict[int, anyio.CapacityLimiter] = {}


async def in_turn(event_id: int, work: Callable[[], T]) -> T:
    """Run `work` (a booking transaction of `event_id`) on the thread pool in the event's turn."""
    limiter = _turns.get(event_id)
    if limiter is None:
        limiter = _turns[event_id] = anyio.CapacityLimiter(get_settings().EVENT_BOOKING_CONCURRENCY)
    waiting = True
    WAITING.inc()
    try:
        async with limiter:
            WAITING.dec()
            waiting = False
            return await run_in_threadpool(work)
    finally:
        if waiting:  # the client went away while it waited
            WAITING.dec()
        if (_turns.get(event_id) is limiter and limiter.borrowed_tokens == 0
                and limiter.statistics().tasks_waiting == 0):
            del _turns[event_id]
