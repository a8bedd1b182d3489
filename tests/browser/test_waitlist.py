"""Waitlist in the UI: "Join waitlist" where "Book" was, the place in the queue, leaving, the
offer with Accept (then the sandbox checkout), and the facilitator's count and queue. Every page
is checked with axe at desktop and phone widths."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import App
from tests.browser.flows import booking_reference, facilitator, paid_event, sign_in, unique
from tests.browser.ui import visit_checked, wait_ready
from tests.support.api import PASSWORD, Account, login


def _attendee(app: App, name: str) -> Account:
    email = f"{unique('attendee')}@example.com"
    assert app.client.post("/auth/register", json={
        "email": email, "password": PASSWORD, "name": name}).status_code == 201
    return login(app.client, email)


def _paid_seat(app: App, who: Account, event_id: int) -> dict[str, Any]:
    """Book and pay through the REST API and the sandbox checkout's own endpoints."""
    created = app.client.post("/bookings", json={"event_id": event_id}, headers=who.headers)
    assert created.status_code == 201, created.text
    reference = created.json()["booking"]["booking_reference"]
    token = created.json()["payment_url"].split("token=")[1]
    fields = app.client.post(f"/pay/{reference}/sandbox", params={"token": token}).json()
    assert app.client.post("/payment/success", json=fields).status_code == 200
    return dict(created.json()["booking"])


def test_join_leave_offer_accept_and_pay(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner, max_participants=1)
    holder = _attendee(ui_app, "Seat Holder")
    booking = _paid_seat(ui_app, holder, event["id"])
    waiter = _attendee(ui_app, "Wait Listed")

    sign_in(page, waiter.email, next_path=f"/events/{event['id']}")
    wait_ready(page)
    expect(page.get_by_text("This event is full.")).to_be_visible()
    expect(page.get_by_role("button", name="Book")).to_have_count(0)
    visit_checked(page, "waitlist-01-full-event")

    page.get_by_role("button", name="Join waitlist").click()
    expect(page.locator("#waitlist-position")).to_contain_text("You are number 1 on the waitlist")
    visit_checked(page, "waitlist-02-waiting")
    page.get_by_role("button", name="Leave waitlist").click()
    expect(page.get_by_text("You have left the waitlist.")).to_be_visible()
    page.get_by_role("button", name="Join waitlist").click()
    expect(page.locator("#waitlist-position")).to_contain_text("number 1")

    # The holder cancels: the seat is offered to the waiter and held for them.
    cancelled = ui_app.client.post(f"/bookings/{booking['id']}/cancel", headers=holder.headers)
    assert cancelled.status_code == 200
    page.reload()
    wait_ready(page)
    expect(page.locator("#waitlist-offer")).to_contain_text(
        re.compile(r"A seat is held for you until \w{3} \d+ \w{3}, \d+:\d\d [AP]M IST"))
    visit_checked(page, "waitlist-03-offer")

    page.get_by_role("button", name="Accept seat").click()
    expect(page).to_have_url(re.compile(r"/pay/BK\d+\?token="))
    page.get_by_role("button", name="Pay (sandbox)").click()
    reference = booking_reference(page)
    wait_ready(page)
    expect(page.locator("#payment-status")).to_have_text("Paid")
    entries = ui_app.client.get("/waitlist", headers=waiter.headers).json()["waitlist"]
    assert [e["status"] for e in entries if e["event_id"] == event["id"]][0] == "accepted"
    assert reference.startswith("BK")


def test_facilitator_sees_the_count_and_the_queue(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner, max_participants=1, price=0,
                       title=unique("Full Kirtan"))
    assert ui_app.client.post("/bookings", json={"event_id": event["id"]},
                              headers=_attendee(ui_app, "Seat Holder").headers).status_code == 201
    names = ["First Waiting", "Second Waiting"]
    for name in names:
        joined = ui_app.client.post(f"/events/{event['id']}/waitlist",
                                    headers=_attendee(ui_app, name).headers)
        assert joined.status_code == 201

    sign_in(page, owner.email, next_path="/dashboard")
    wait_ready(page)
    card = page.locator(".rt-Card").filter(has_text=event["title"])
    expect(card).to_contain_text("Waitlist2")
    visit_checked(page, "waitlist-04-dashboard")
    card.get_by_role("link", name="Attendees").click()
    wait_ready(page)
    rows = page.locator("#waitlist tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("1First Waiting")
    expect(rows.nth(1)).to_contain_text("2Second Waiting")
    visit_checked(page, "waitlist-05-queue")
