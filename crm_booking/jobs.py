"""Background loops, started once per worker by the app's lifespan.

Every job is safe when several workers run it at once: rows are claimed with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (a lease for the outbox), and each change is guarded
by its own conditions, so a second worker finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from crm_booking.services import booking, notifications, refund
from crm_booking.settings import get_settings

log = logging.getLogger("crm_booking.jobs")

PERIODIC_JOBS: list[tuple[str, Callable[[], int]]] = [
    ("expire holds", booking.expire_lapsed_holds),
    ("retry refunds", refund.retry_unfinished),
    ("complete finished bookings", booking.complete_finished_bookings),
]


async def _run(name: str, job: Callable[[], int]) -> None:
    try:
        done = await asyncio.to_thread(job)
        if done:
            log.info("%s: %d", name, done)
    except Exception:  # a failing job must not stop the loop; it runs again next tick
        log.exception("background job %r failed", name)


async def _periodic_loop(interval: float) -> None:
    while True:
        for name, job in PERIODIC_JOBS:
            await _run(name, job)
        await asyncio.sleep(interval)


async def _outbox_loop(interval: float) -> None:
    """Runs as soon as a commit wrote outbox rows, and at least every `interval` seconds
    (for retries that fell due)."""
    while True:
        await asyncio.to_thread(notifications.wakeup.wait, interval)
        notifications.wakeup.clear()
        await _run("deliver notifications", notifications.deliver_due)


async def run_background_jobs() -> None:
    settings = get_settings()
    if not settings.JOBS_ENABLED:
        log.info("background jobs disabled (JOBS_ENABLED=false)")
        return
    await asyncio.gather(
        _periodic_loop(settings.JOB_INTERVAL_SECONDS),
        _outbox_loop(min(settings.JOB_INTERVAL_SECONDS, 1.0)),
    )
