"""Background loops, started once per worker by the app's lifespan.

Every job is safe when several workers run it at once: rows are claimed with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (a lease for the outbox), and each change is guarded
by its own conditions, so a second worker finds nothing left to do.

Each job runs in a loop of its own, on a thread of its own, so a slow one (refunds while the
gateway times out) never delays another (holds must keep expiring). Jobs that call the gateway
also get a time budget per run and stop starting new calls once it is spent.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from crm_booking.metrics import HOLD_EXPIRIES
from crm_booking.services import booking, notifications, payment, receipts, refund, reminders, waitlist
from crm_booking.settings import get_settings

log = logging.getLogger("crm_booking.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[float], int]  # called with its deadline (time.monotonic); returns work done
    interval_factor: float = 1.0  # times JOB_INTERVAL_SECONDS


def _unbounded(job: Callable[[], int]) -> Callable[[float], int]:
    """A job whose every step is one short database transaction needs no deadline."""
    return lambda _deadline: job()


def _expire_holds() -> int:
    expired = booking.expire_lapsed_holds()
    HOLD_EXPIRIES.inc(expired)
    return expired


PERIODIC_JOBS: list[Job] = [
    Job("expire holds", _unbounded(_expire_holds)),
    Job("expire waitlist offers", _unbounded(waitlist.expire_lapsed_offers)),
    Job("retry refunds", lambda deadline: refund.retry_unfinished(deadline=deadline)),
    Job("poll pending refunds", lambda deadline: refund.poll_pending(deadline=deadline),
        interval_factor=5.0),
    Job("complete finished bookings", _unbounded(booking.complete_finished_bookings),
        interval_factor=5.0),
    Job("issue receipts", _unbounded(receipts.issue_due)),
    # Issue 13 (14): payments nobody reported, at most every PAYMENT_RECONCILE_INTERVAL_SECONDS.
    Job("reconcile payments", _unbounded(payment.reconcile_when_due)),
    Job("send reminders", _unbounded(reminders.enqueue_due)),
]


async def _run(name: str, job: Callable[[], int], pool: ThreadPoolExecutor) -> None:
    try:
        done = await asyncio.get_running_loop().run_in_executor(pool, job)
        if done:
            log.info("%s: %d", name, done)
    except Exception:  # a failing job must not stop the loop; it runs again next tick
        log.exception("background job %r failed", name)


async def _job_loop(job: Job, interval: float, budget: float, pool: ThreadPoolExecutor) -> None:
    while True:
        await _run(job.name, functools.partial(job.run, time.monotonic() + budget), pool)
        await asyncio.sleep(interval * job.interval_factor)


async def _outbox_loop(interval: float, pool: ThreadPoolExecutor) -> None:
    """Runs as soon as a commit wrote outbox rows, and at least every `interval` seconds
    (for retries that fell due)."""
    loop = asyncio.get_running_loop()
    while True:
        await loop.run_in_executor(pool, notifications.wakeup.wait, interval)
        notifications.wakeup.clear()
        await _run("deliver notifications", notifications.deliver_due, pool)


async def run_background_jobs() -> None:
    settings = get_settings()
    if not settings.JOBS_ENABLED:
        log.info("background jobs disabled (JOBS_ENABLED=false)")
        return
    # Own threads: the jobs never queue behind each other or behind request handlers.
    pool = ThreadPoolExecutor(max_workers=len(PERIODIC_JOBS) + 2, thread_name_prefix="job")
    try:
        await asyncio.gather(
            *(_job_loop(job, settings.JOB_INTERVAL_SECONDS, settings.JOB_TIME_BUDGET_SECONDS, pool)
              for job in PERIODIC_JOBS),
            _outbox_loop(min(settings.JOB_INTERVAL_SECONDS, 1.0), pool),
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
