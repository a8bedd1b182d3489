"""Background loops, started once per worker by the app's lifespan.

Every job is safe when several workers run it at once: rows are claimed with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, and each change is guarded by its own conditions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from crm_booking.services import booking, refund
from crm_booking.settings import get_settings

log = logging.getLogger("crm_booking.jobs")


def _jobs() -> list[tuple[str, Callable[[], int]]]:
    from crm_booking.services import notifications

    jobs: list[tuple[str, Callable[[], int]]] = [
        ("expire holds", booking.expire_lapsed_holds),
        ("retry refunds", refund.retry_unfinished),
        ("complete finished bookings", booking.complete_finished_bookings),
    ]
    deliver = getattr(notifications, "deliver_due", None)
    if deliver is not None:
        jobs.append(("deliver notifications", deliver))
    return jobs


async def run_background_jobs() -> None:
    settings = get_settings()
    if not settings.JOBS_ENABLED:
        log.info("background jobs disabled (JOBS_ENABLED=false)")
        return
    while True:
        for name, job in _jobs():
            try:
                done = await asyncio.to_thread(job)
                if done:
                    log.info("%s: %d", name, done)
            except Exception:  # a failing job must not stop the others; it runs again next tick
                log.exception("background job %r failed", name)
        await asyncio.sleep(settings.JOB_INTERVAL_SECONDS)
