"""Scenarios that need more than one request shape: oversell bursts and notification latency."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from crm_booking.gateways.payments import sign
from crm_booking.settings import get_settings


@dataclass(frozen=True)
class OversellResult:
    repetitions: int
    capacity: int
    sold: list[int]
    oversold: int
    undersold: int
    inconsistent: int  # repetitions where 201 answers, booking rows and seats_taken disagree


async def _burst(base_url: str, event_id: int, tokens: list[str]) -> int:
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        start = asyncio.Event()

        async def one(token: str) -> int:
            await start.wait()  # all 200 requests leave together
            response = await client.post("/bookings", json={"event_id": event_id},
                                         headers={"Authorization": f"Bearer {token}"})
            return response.status_code

        tasks = [asyncio.create_task(one(token)) for token in tokens]
        await asyncio.sleep(0.05)
        start.set()
        codes = await asyncio.gather(*tasks)
    unexpected = [c for c in codes if c not in (201, 400)]
    if unexpected:
        raise RuntimeError(f"oversell burst got unexpected answers: {sorted(set(unexpected))}")
    return sum(1 for c in codes if c == 201)


def oversell(base_url: str, database_url: str, tokens: list[str], *, facilitator_id: int,
             clients: int = 200, capacity: int = 10, repetitions: int = 10) -> OversellResult:
    """`clients` distinct attendees book a `capacity`-seat event at the same instant."""
    engine = sa.create_engine(database_url)
    sold, inconsistent = [], 0
    for repetition in range(repetitions):
        event_id = _small_event(engine, facilitator_id, capacity)
        batch = tokens[repetition * clients:(repetition + 1) * clients]
        ok = asyncio.run(_burst(base_url, event_id, batch))
        with engine.connect() as connection:
            taken, rows = connection.execute(sa.text(
                "SELECT seats_taken, (SELECT count(*) FROM bookings WHERE event_id = :e "
                "AND status = 'confirmed') FROM events WHERE id = :e"), {"e": event_id}).one()
        inconsistent += int(not ok == taken == rows)
        sold.append(ok)
    engine.dispose()
    return OversellResult(repetitions, capacity, sold, sum(max(0, s - capacity) for s in sold),
                          sum(max(0, capacity - s) for s in sold), inconsistent)


def _small_event(engine: sa.Engine, facilitator_id: int, capacity: int) -> int:
    with engine.begin() as connection:
        return int(connection.execute(sa.text(
            "INSERT INTO events (facilitator_id, title, description, event_type, start_at, end_at, "
            "timezone, location, max_participants, seats_taken, price, currency, is_active, "
            "created_at, updated_at) VALUES (:f, 'Ten seats', 'oversell check', 'session', "
            ":start, :end, 'Asia/Kolkata', 'Small room', :cap, 0, 0, 'INR', true, :now, :now) "
            "RETURNING id"), {"f": facilitator_id, "cap": capacity, "now": _utcnow(),
                              "start": _utcnow(days=300), "end": _utcnow(days=300, hours=1)}).scalar_one())


def _utcnow(days: int = 0, hours: int = 0) -> object:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=days, hours=hours)


# --- notification latency ---------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyResult:
    payments: int
    delivered: int
    p50_ms: float
    p99_ms: float
    max_ms: float


class PaymentDriver(threading.Thread):
    """Pays for `count` bookings one after another (while other load runs), remembering when
    each payment-success callback was sent."""

    def __init__(self, base_url: str, database_url: str, tokens: list[str], event_id: int,
                 count: int, spacing: float) -> None:
        super().__init__(daemon=True)
        self.base_url, self.database_url, self.tokens = base_url, database_url, tokens
        self.event_id, self.count, self.spacing = event_id, count, spacing
        self.paid_at: dict[int, float] = {}  # booking id -> wall clock when "success" was sent
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self._pay_all()
        except Exception as exc:  # reported by the caller; a thread cannot raise to it
            self.error = exc

    def _pay_all(self) -> None:
        engine = sa.create_engine(self.database_url)
        secret = get_settings().SANDBOX_PAYMENT_SECRET
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            for index, token in enumerate(self.tokens[:self.count]):
                created = client.post("/bookings", json={"event_id": self.event_id},
                                      headers={"Authorization": f"Bearer {token}"})
                created.raise_for_status()
                booking_id = created.json()["booking"]["id"]
                with engine.connect() as connection:
                    order_id = connection.execute(sa.text(
                        "SELECT razorpay_order_id FROM bookings WHERE id = :b"),
                        {"b": booking_id}).scalar_one()
                payment_id = f"pay_bench_{booking_id}_{index}"
                sent = time.time()
                answer = client.post("/payment/success", json={
                    "razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
                    "razorpay_signature": sign(secret, f"{order_id}|{payment_id}")})
                answer.raise_for_status()
                self.paid_at[booking_id] = sent
                time.sleep(self.spacing)
        engine.dispose()


def notification_latency(driver: PaymentDriver, crm_database_url: str,
                         timeout: float = 90) -> LatencyResult:
    """From the success callback to the CRM's row for that booking's payment_completed."""
    engine = sa.create_engine(crm_database_url)
    deadline = time.monotonic() + timeout
    stored: dict[int, float] = {}
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT booking_id, extract(epoch FROM created_at) FROM notifications "
                "WHERE action = 'payment_completed'")).all()
        stored = {int(b): float(t) for b, t in rows if int(b) in driver.paid_at}
        if len(stored) == len(driver.paid_at):
            break
        time.sleep(0.5)
    engine.dispose()
    latencies = sorted(max(0.0, stored[b] - driver.paid_at[b]) * 1000 for b in stored)
    if not latencies:
        return LatencyResult(len(driver.paid_at), 0, float("nan"), float("nan"), float("nan"))
    return LatencyResult(len(driver.paid_at), len(latencies), latencies[len(latencies) // 2],
                         latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], latencies[-1])


def tokens_from(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]
