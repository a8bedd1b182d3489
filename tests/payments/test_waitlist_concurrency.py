"""Waitlist under concurrency, on PostgreSQL, against the running app: 50 people wait for a
10-seat event; 10 bookings are cancelled at the same moment while outsiders keep trying to book,
people leave, offered people accept, and offers keep lapsing (the server clock jumps past them).

Checked all along by a sampler reading the database: never more seats held (bookings + open
offers) than capacity, and `seats_taken` never above capacity. At the end: no entry offered
twice, offers went out in waitlist order, no outsider got a seat. The figures are printed for
bench/RESULTS.md (run with -s)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.payments.conftest import App
from tests.support.api import Account

CAPACITY = 10
WAITING = 50
OUTSIDERS = 20
OFFER_MINUTES = 30


class Sampler:
    """Reads the event's seat figures from the database as fast as it can, in the background."""

    def __init__(self, app: App, event_id: int) -> None:
        self.app, self.event_id = app, event_id
        self.samples: list[dict[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            [row] = self.app.rows(
                "SELECT e.seats_taken AS taken, e.max_participants AS capacity,"
                " (SELECT count(*) FROM bookings b WHERE b.event_id = e.id"
                "   AND b.status = 'confirmed') AS booked,"
                " (SELECT count(*) FROM waitlist_entries w WHERE w.event_id = e.id"
                "   AND w.status = 'offered') AS offered"
                " FROM events e WHERE e.id = :e", e=self.event_id)
            self.samples.append(dict(row))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _all_at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _request(app: App, method: str, path: str, who: Account,
             body: dict[str, Any] | None = None) -> Callable[[], httpx.Response]:
    def call() -> httpx.Response:
        with httpx.Client(base_url=app.url, timeout=60) as client:
            return client.request(method, path, json=body, headers=who.headers)
    return call


def _entries(app: App, event_id: int) -> list[dict[str, Any]]:
    return app.rows("SELECT id, user_id, status, offered_at FROM waitlist_entries "
                    "WHERE event_id = :e ORDER BY id", e=event_id)


def _no_lapsed_offers(app: App, event_id: int, clock_minutes: int) -> bool:
    """The job has passed on every offer that lapsed by the server's (moved) clock."""
    [row] = app.rows(
        "SELECT count(*) AS lapsed FROM waitlist_entries WHERE event_id = :e AND "
        "status = 'offered' AND offer_expires_at <= now() + make_interval(mins => :m)",
        e=event_id, m=clock_minutes)
    return bool(row["lapsed"] == 0)


def _settled(app: App, event_id: int) -> bool:
    """Every seat is a booking or an open offer again (people are still waiting)."""
    [row] = app.rows(
        "SELECT e.seats_taken, (SELECT count(*) FROM bookings b WHERE b.event_id = e.id AND "
        "b.status = 'confirmed') + (SELECT count(*) FROM waitlist_entries w WHERE "
        "w.event_id = e.id AND w.status = 'offered') AS held FROM events e WHERE e.id = :e",
        e=event_id)
    return bool(row["seats_taken"] == row["held"] == CAPACITY)


def test_cancels_bookings_leaves_accepts_and_lapses_never_oversell(app: App):
    owner = app.facilitator()
    event = app.event(owner, max_participants=CAPACITY, price=0)
    holders = [app.attendee() for _ in range(CAPACITY)]
    bookings = [app.book(h, event["id"])["booking"] for h in holders]
    waiters = [app.attendee() for _ in range(WAITING)]
    for person in waiters:  # the queue's order is the joining order
        joined = app.client.post(f"/events/{event['id']}/waitlist", headers=person.headers)
        assert joined.status_code == 201, joined.text
    outsiders = [app.attendee() for _ in range(OUTSIDERS)]
    book = {"event_id": event["id"]}
    started = time.monotonic()

    with Sampler(app, event["id"]) as sampler:
        # Round 1: every booking cancelled at once, outsiders booking, five waiters leaving.
        round_one = _all_at_once(
            [_request(app, "POST", f"/bookings/{b['id']}/cancel", h)
             for b, h in zip(bookings, holders, strict=True)]
            + [_request(app, "POST", "/bookings", o, book) for o in outsiders]
            + [_request(app, "DELETE", f"/events/{event['id']}/waitlist", w)
               for w in waiters[40:45]])
        app.wait_for(lambda: _settled(app, event["id"]))

        # Round 2: half of those offered accept while the offers lapse (clock jump) and
        # outsiders keep booking; the job passes lapsed offers on.
        offered = [e for e in _entries(app, event["id"]) if e["status"] == "offered"]
        by_user = {w.id: w for w in waiters}
        accepting = [by_user[e["user_id"]] for e in offered[:5]]

        def lapse_offers() -> httpx.Response:
            # Once two acceptances have committed, the offers lapse under the other three.
            app.wait_for(lambda: len([e for e in _entries(app, event["id"])
                                      if e["status"] == "accepted"]) >= 2)
            app.clock_file.write_text(str((OFFER_MINUTES + 1) * 60))
            return httpx.Response(200)

        round_two = _all_at_once(
            [_request(app, "POST", f"/waitlist/{e['id']}/accept", by_user[e["user_id"]])
             for e in offered[:5]]
            + [_request(app, "POST", "/bookings", o, book) for o in outsiders]
            + [lapse_offers])
        app.wait_for(lambda: _no_lapsed_offers(app, event["id"], OFFER_MINUTES + 1)
                     and _settled(app, event["id"]), timeout=60)

        # Round 3: the accepted ones cancel again while the next offers lapse too.
        accepted_bookings = [r.json()["booking"] for r in round_two[:5] if r.status_code == 201]
        accepted_people = [p for p, r in zip(accepting, round_two[:5], strict=True)
                           if r.status_code == 201]

        def lapse_again() -> httpx.Response:
            app.clock_file.write_text(str(2 * (OFFER_MINUTES + 1) * 60))
            return httpx.Response(200)

        round_three = _all_at_once(
            [_request(app, "POST", f"/bookings/{b['id']}/cancel", p)
             for b, p in zip(accepted_bookings, accepted_people, strict=True)]
            + [_request(app, "POST", "/bookings", o, book) for o in outsiders]
            + [lapse_again])
        app.wait_for(lambda: _no_lapsed_offers(app, event["id"], 2 * (OFFER_MINUTES + 1))
                     and _settled(app, event["id"]), timeout=60)
    elapsed = time.monotonic() - started

    # Requests: cancels and leaves all worked; no outsider ever got a seat.
    for response in round_one[:CAPACITY] + round_one[CAPACITY + OUTSIDERS:]:
        assert response.status_code == 200, response.text
    outsider_answers = (round_one[CAPACITY:CAPACITY + OUTSIDERS] + round_two[5:5 + OUTSIDERS]
                        + round_three[len(accepted_bookings):len(accepted_bookings) + OUTSIDERS])
    assert {(r.status_code, r.json()["error"]) for r in outsider_answers} == {
        (400, "Event is full")}
    assert all(r.status_code == 200 for r in round_three[:len(accepted_bookings)])

    # Never more seats than capacity, at any sampled moment.
    worst = max(s["booked"] + s["offered"] for s in sampler.samples)
    assert worst <= CAPACITY and max(s["taken"] for s in sampler.samples) <= CAPACITY

    # Nobody offered twice; offers went out in waitlist order (by offer time, ids only grow).
    emails = app.rows("SELECT idempotency_key FROM outbox WHERE action = 'waitlist_offered' "
                      "AND payload::json->'event'->>'id' = :e", e=str(event["id"]))
    keys = [r["idempotency_key"] for r in emails]
    assert len(keys) == len(set(keys))
    entries = _entries(app, event["id"])
    ever_offered = [e for e in entries if e["offered_at"] is not None]
    assert len(keys) == len(ever_offered)
    in_offer_order = sorted(ever_offered, key=lambda e: (e["offered_at"], e["id"]))
    assert [e["id"] for e in in_offer_order] == sorted(e["id"] for e in ever_offered)
    # ... and to a prefix of the queue: nobody still waiting joined before someone offered.
    waiting_ids = [e["id"] for e in entries if e["status"] == "waiting"]
    assert not waiting_ids or min(waiting_ids) > max(e["id"] for e in ever_offered)

    print(f"\nWAITLIST-CONCURRENCY capacity={CAPACITY} waiting={WAITING} outsiders={OUTSIDERS}x3 "
          f"samples={len(sampler.samples)} max_held={worst} "
          f"max_seats_taken={max(s['taken'] for s in sampler.samples)} "
          f"offers={len(ever_offered)} duplicate_offers={len(keys) - len(set(keys))} "
          f"out_of_order_offers=0 accepted={len(accepted_bookings)} "
          f"outsider_seats={sum(r.status_code == 201 for r in outsider_answers)} "
          f"elapsed={elapsed:.1f}s")
