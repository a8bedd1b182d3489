"""Numbers at a glance: the period totals over HTTP (with the test clock), and the tabbed,
searched event pages for a facilitator with 500 events."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from crm_booking.services import payment
from tests.support.api import book, create_event, login, new_attendee, new_facilitator


def _pay(api: httpx.Client, reference: str) -> None:
    token = payment.checkout_token(reference)
    fields = api.post(f"/pay/{reference}/sandbox", params={"token": token, "outcome": "success"})
    assert api.post("/payment/success", json=fields.json()).status_code == 200


def test_overview_totals_and_days(api: httpx.Client, clock_file: Path) -> None:
    owner = new_facilitator(api)
    paid = create_event(api, owner, price=500, max_participants=10)
    free = create_event(api, owner, price=0, max_participants=4)
    buyers = [new_attendee(api) for _ in range(2)]
    for buyer in buyers:
        _pay(api, book(api, buyer, paid["id"]).json()["booking"]["booking_reference"])
    refunded = api.get("/bookings", headers=buyers[1].headers).json()["bookings"][0]
    assert api.post(f"/bookings/{refunded['id']}/cancel", headers=buyers[1].headers).status_code == 200
    guests = [new_attendee(api) for _ in range(3)]
    free_bookings = [book(api, g, free["id"]).json()["booking"] for g in guests]
    checked = api.post(f"/facilitator/events/{free['id']}/check-in",
                       json={"ticket_code": free_bookings[0]["ticket_code"]}, headers=owner.headers)
    assert checked.status_code == 200

    now = api.get("/facilitator/overview", params={"days": 7}, headers=owner.headers).json()
    assert now["revenue"] == 500.0 and now["currency"] == "INR"  # 2 x 500 paid, 500 refunded
    assert now["bookings"] == 5
    assert now["fill_rate"] is None and now["no_shows"] == 0  # nothing has started yet
    assert len(now["days"]) in (7, 8)
    assert sum(d["bookings"] for d in now["days"]) == 5
    assert sum(d["revenue"] for d in now["days"]) == 500.0

    clock_file.write_text(str(timedelta(days=11).total_seconds()))  # both events are over
    try:
        moved_owner = login(api, owner.email)  # tokens from before the jump have expired
        later = api.get("/facilitator/overview", params={"days": 30},
                        headers=moved_owner.headers).json()
    finally:
        clock_file.write_text("0")
    # Seats taken at the events that started: 1 paid (the other was refunded) + 3 free, of 14.
    assert (later["seats_taken"], later["capacity"]) == (4, 14)
    assert later["fill_rate"] == round(4 / 14, 4)
    # The free event used the door list: two of its three never came. The paid one did not.
    assert later["no_shows"] == 2

    for params in ({"days": 0}, {"days": 400}, {"days": "week"}):
        answer = api.get("/facilitator/overview", params=params, headers=owner.headers)
        assert answer.status_code == 400, answer.text
    assert api.get("/facilitator/overview", headers=new_attendee(api).headers).status_code == 403


def test_five_hundred_events_in_tabs_with_search(database_url: str) -> None:
    from crm_booking.db import transaction
    from crm_booking.models import Event, Role
    from crm_booking.services import auth, insights
    from tests.support.api import unique_email

    owner = auth.create_user(email=unique_email("busy"), password=None, name="Busy Teacher",
                             role=Role.FACILITATOR)
    now = datetime.now(UTC)
    with transaction() as session:
        for n in range(500):
            start = now + timedelta(days=n - 250, hours=1)
            session.add(Event(
                facilitator_id=owner.id, title=f"Class {n:03d}", description="Weekly class",
                event_type="session", start_at=start, end_at=start + timedelta(hours=1),
                location="Studio", max_participants=10, price=Decimal("100.00"),
                cancelled_at=now if n % 50 == 7 else None, is_active=n % 50 != 7))
    began = time.perf_counter()
    upcoming = insights.event_page(actor_id=owner.id, tab="upcoming")  # type: ignore[arg-type]
    elapsed = time.perf_counter() - began
    assert upcoming.total_events == 500 and upcoming.has_more
    assert len(upcoming.rows) == insights.PAGE_SIZE
    assert [r.event.title for r in upcoming.rows[:2]] == ["Class 250", "Class 251"]
    assert elapsed < 2.0, elapsed

    past = insights.event_page(actor_id=owner.id, tab="past", page=1)  # type: ignore[arg-type]
    assert past.rows[0].event.title == f"Class {249 - insights.PAGE_SIZE:03d}"
    cancelled = insights.event_page(actor_id=owner.id, tab="cancelled", page_size=50)  # type: ignore[arg-type]
    assert len(cancelled.rows) == 10 and not cancelled.has_more
    assert all(r.event.cancelled_at is not None for r in cancelled.rows)
    found = insights.event_page(actor_id=owner.id, tab="past", search="class 123")  # type: ignore[arg-type]
    assert [r.event.title for r in found.rows] == ["Class 123"]
    assert insights.event_page(actor_id=owner.id, tab="upcoming", search="class 123").rows == []  # type: ignore[arg-type]
