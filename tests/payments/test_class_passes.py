"""Issue 17, class passes: products, a purchase through the same checkout, callbacks, webhook,
refund and reconcile machinery as a booking, and bookings paid with one credit. Against the
running app, the real `razorpay` client and the fake Razorpay, on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from crm_service.emails import notification_emails
from crm_service.payloads import NotifyRequest
from tests.fakes.razorpay_server import FakeRazorpay, RefundFailure
from tests.payments.conftest import TIMEOUT_SECONDS, App, _own_database, start_app
from tests.support.api import Account, login
from tests.support.pauses import Barrier
from tests.support.servers import ServerProcess, booking_app, free_port

FULL_REFUND_UNTIL_48H = [{"hours_before": 48, "refund_percent": 100},
                         {"hours_before": 0, "refund_percent": 0}]


def define_pass(app: App, facilitator: Account, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Three classes", "credits": 3, "valid_days": 30, "price": 1200, **overrides}
    response = app.client.post("/facilitator/passes", json=body, headers=facilitator.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["pass_product"])


def buy(app: App, attendee: Account, product_id: int) -> dict[str, Any]:
    response = app.client.post(f"/passes/{product_id}/purchase", headers=attendee.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def paid_pass(app: App, fake: FakeRazorpay, attendee: Account, facilitator: Account,
              **overrides: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(product, the purchase as the success callback answered it, the payment's fields)."""
    product = define_pass(app, facilitator, **overrides)
    purchase = buy(app, attendee, product["id"])["purchase"]
    fields = fake.pay(purchase["payment_reference"])
    response = app.client.post("/payment/success", json=fields)
    assert response.status_code == 200, response.text
    return product, response.json()["purchase"], fields


def my_passes(app: App, attendee: Account) -> dict[int, dict[str, Any]]:
    response = app.client.get("/me/passes", headers=attendee.headers)
    assert response.status_code == 200, response.text
    return {p["id"]: p for p in response.json()["passes"]}


def book_with(app: App, attendee: Account, event_id: int, pass_id: int) -> httpx.Response:
    return app.client.post("/bookings", json={"event_id": event_id, "pass_id": pass_id},
                           headers=attendee.headers)


def starting_in(hours: float) -> dict[str, str]:
    start = (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0, tzinfo=None)
    return {"start_datetime": start.isoformat(),
            "end_datetime": (start + timedelta(hours=1)).isoformat()}


# --- products ---------------------------------------------------------------------------------


def test_facilitator_defines_a_pass_that_everyone_can_list(app: App):
    facilitator = app.facilitator()
    product = define_pass(app, facilitator, name="Ten mornings", credits=10, valid_days=90,
                          price=4500, event_type="session")

    assert {k: product[k] for k in ("name", "credits", "valid_days", "price", "currency",
                                    "event_type", "is_active")} == {
        "name": "Ten mornings", "credits": 10, "valid_days": 90, "price": 4500.0,
        "currency": "INR", "event_type": "session", "is_active": True}
    assert product["facilitator"]["id"] == facilitator.id
    listed = app.client.get("/passes")
    assert listed.status_code == 200
    assert product["id"] in {p["id"] for p in listed.json()["passes"]}


def test_only_facilitators_define_passes_and_bad_fields_are_named(app: App):
    attendee = app.attendee()
    refused = app.client.post("/facilitator/passes", headers=attendee.headers, json={
        "name": "Mine", "credits": 3, "valid_days": 30, "price": 100})
    assert refused.status_code == 403 and "error" in refused.json()

    bad = app.client.post("/facilitator/passes", headers=app.facilitator().headers, json={
        "name": "Bad", "credits": 0, "valid_days": 30, "price": -1, "event_type": "party"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "Validation error"
    assert set(bad.json()["details"]) == {"credits", "price", "event_type"}


# --- purchase -----------------------------------------------------------------------------------


def test_purchase_is_paid_through_the_checkout_callback_and_a_replay_is_harmless(
        app: App, fake_razorpay: FakeRazorpay):
    facilitator, attendee = app.facilitator(), app.attendee()
    product = define_pass(app, facilitator, price=1499.5)
    started = buy(app, attendee, product["id"])
    purchase = started["purchase"]
    order = fake_razorpay.state.orders[purchase["payment_reference"]]
    assert (order["amount"], order["receipt"]) == (149950, purchase["reference"])
    assert purchase["status"] == "pending" and purchase["credits_left"] == 0
    assert started["payment_url"].startswith(f"{app.url}/pay/{purchase['reference']}?token=")
    assert app.client.get(started["payment_url"]).status_code == 200

    fields = fake_razorpay.pay(purchase["payment_reference"])
    first = app.client.post("/payment/success", json=fields)
    replay = app.client.post("/payment/success", json=fields)

    assert first.status_code == 200, first.text
    assert first.json()["message"] == "Payment processed successfully"
    body = first.json()["purchase"]
    assert (body["id"], body["status"], body["credits_left"]) == (purchase["id"], "active", 3)
    expires = datetime.fromisoformat(body["expires_at"]).replace(tzinfo=UTC)  # UTC, as spec shows
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert replay.status_code == 200 and replay.json()["purchase"]["credits_left"] == 3
    assert len(app.rows("SELECT * FROM payments WHERE pass_purchase_id=:p", p=purchase["id"])) == 1
    assert app.rows("SELECT action FROM outbox WHERE idempotency_key LIKE :k",
                    k=f"pass-{purchase['id']}-%") == [{"action": "pass_purchased"}]
    # The CRM accepts what was written and emails the attendee a confirmation (no invite).
    [outbox] = app.rows("SELECT payload FROM outbox WHERE idempotency_key=:k",
                        k=f"pass-{purchase['id']}-pass_purchased")
    [email] = notification_emails(NotifyRequest.model_validate(json.loads(outbox["payload"])), 0,
                                  "crm@example.com")
    assert email.message["Subject"] == "Class pass confirmed: Three classes"
    text = str(email.message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert "1,499.50 INR" in text and f"PASS{purchase['id']}" in text and "Valid until" in text
    assert not any(p.get_content_type() == "text/calendar" for p in email.message.walk())
    owned = my_passes(app, attendee)[purchase["id"]]
    assert {k: owned[k] for k in ("name", "credits_left", "status")} == {
        "name": "Three classes", "credits_left": 3, "status": "active"}
    assert owned["expires_at"] == body["expires_at"] and owned["history"] == []


def test_webhook_activates_once_and_a_replay_or_late_callback_changes_nothing(
        app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    product = define_pass(app, app.facilitator())
    purchase = buy(app, attendee, product["id"])["purchase"]
    fields = fake_razorpay.pay(purchase["payment_reference"])
    body = fake_razorpay.webhook_body("payment.captured", payment_id=fields["razorpay_payment_id"])

    first = fake_razorpay.send_webhook(app.url, body, event_id=f"evt_pass_{purchase['id']}")
    replay = fake_razorpay.send_webhook(app.url, body, event_id=f"evt_pass_{purchase['id']}")
    other_id = fake_razorpay.send_webhook(app.url, body)  # redelivered under a new event id
    callback = app.client.post("/payment/success", json=fields)

    assert first.json()["status"] == "ok" and replay.json()["status"] == "duplicate"
    assert other_id.status_code == 200 and callback.status_code == 200
    assert my_passes(app, attendee)[purchase["id"]]["credits_left"] == 3
    assert app.rows("SELECT count(*) AS n FROM payments WHERE pass_purchase_id=:p",
                    p=purchase["id"]) == [{"n": 1}]
    assert app.rows("SELECT count(*) AS n FROM outbox WHERE action='pass_purchased' AND "
                    "idempotency_key LIKE :k", k=f"pass-{purchase['id']}-%") == [{"n": 1}]
    assert app.rows("SELECT count(*) AS n FROM refunds WHERE pass_purchase_id=:p",
                    p=purchase["id"]) == [{"n": 0}]


def test_a_second_payment_on_a_paid_pass_is_refunded_and_the_pass_stays(
        app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    _, purchase, first = paid_pass(app, fake_razorpay, attendee, app.facilitator())
    second = fake_razorpay.pay(purchase["payment_reference"])

    answer = app.client.post("/payment/success", json=second)

    assert answer.status_code == 200, answer.text
    assert answer.json()["purchase"]["status"] == "active"
    assert answer.json()["refund"]["status"] == "processed"
    refunds = app.rows("SELECT * FROM refunds WHERE pass_purchase_id=:p", p=purchase["id"])
    assert [(r["razorpay_payment_id"], r["reason"], r["status"], r["booking_id"])
            for r in refunds] == [(second["razorpay_payment_id"], "duplicate_payment",
                                   "processed", None)]
    assert [r["amount"] for r in fake_razorpay.refunds_of(second["razorpay_payment_id"])] == [120000]
    assert fake_razorpay.refunds_of(first["razorpay_payment_id"]) == []
    owned = my_passes(app, attendee)[purchase["id"]]
    assert (owned["status"], owned["credits_left"]) == ("active", 3)
    assert app.rows("SELECT count(*) AS n FROM outbox WHERE action='pass_payment_refunded' AND "
                    "idempotency_key LIKE :k", k=f"pass-{purchase['id']}-%") == [{"n": 1}]


def test_a_failed_attempt_keeps_the_purchase_payable(app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    purchase = buy(app, attendee, define_pass(app, app.facilitator())["id"])["purchase"]
    failed = fake_razorpay.fail(purchase["payment_reference"])

    answer = app.client.post("/payment/failure", json=failed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["purchase"]["status"] == "pending"
    # Buying again offers the same purchase and order, not a second one.
    again = buy(app, attendee, purchase["product_id"])["purchase"]
    assert (again["id"], again["payment_reference"]) == (purchase["id"],
                                                         purchase["payment_reference"])
    paid = app.client.post("/payment/success", json=fake_razorpay.pay(again["payment_reference"]))
    assert paid.json()["purchase"]["status"] == "active"


# --- booking with a credit ----------------------------------------------------------------------


def test_booking_with_a_pass_uses_one_credit_and_no_order(app: App, fake_razorpay: FakeRazorpay):
    facilitator, attendee = app.facilitator(), app.attendee()
    _, purchase, _ = paid_pass(app, fake_razorpay, attendee, facilitator)
    event = app.event(facilitator, price=800)
    orders_before = len(fake_razorpay.state.orders)

    response = book_with(app, attendee, event["id"], purchase["id"])

    assert response.status_code == 201, response.text
    booking = response.json()["booking"]
    assert (booking["payment_status"], booking["paid_with"], booking["pass_id"]) == (
        "completed", "pass", purchase["id"])
    assert response.json()["payment_url"] is None and booking["payment_reference"] is None
    assert len(fake_razorpay.state.orders) == orders_before
    owned = my_passes(app, attendee)[purchase["id"]]
    assert owned["credits_left"] == 2
    assert [(h["booking_id"], h["event"]["title"], h["credit"]) for h in owned["history"]] == [
        (booking["id"], event["title"], "used")]
    assert app.booking(attendee, booking["id"])["paid_with"] == "pass"
    # The confirmation the CRM sends says how the seat was paid, with the ticket and invite.
    [outbox] = app.rows("SELECT payload FROM outbox WHERE booking_id=:b AND action='booking_created'",
                        b=booking["id"])
    emails = notification_emails(NotifyRequest.model_validate(json.loads(outbox["payload"])), 0,
                                 "crm@example.com")
    text = str(emails[0].message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert "Paid with: One class of your pass" in text and "Ticket code:" in text
    assert any(p.get_content_type() == "text/calendar" for p in emails[0].message.walk())


def test_someone_elses_an_unpaid_an_empty_or_an_expired_pass_is_refused(
        app: App, fake_razorpay: FakeRazorpay):
    facilitator, owner, stranger = app.facilitator(), app.attendee(), app.attendee()
    _, one_credit, _ = paid_pass(app, fake_razorpay, owner, facilitator, credits=1, valid_days=1)
    unpaid = buy(app, owner, define_pass(app, facilitator)["id"])["purchase"]
    first, second = app.event(facilitator), app.event(facilitator)
    workshop = app.event(facilitator, event_type="workshop")
    _, sessions_only, _ = paid_pass(app, fake_razorpay, owner, facilitator, event_type="session")

    def refused(account: Account, event_id: int, pass_id: int) -> str:
        response = book_with(app, account, event_id, pass_id)
        assert response.status_code == 400, response.text
        assert set(response.json()) == {"error"}
        return str(response.json()["error"])

    assert refused(stranger, first["id"], one_credit["id"]).startswith("Pass not found")
    assert refused(owner, first["id"], 2_000_000_000).startswith("Pass not found")
    assert refused(owner, first["id"], unpaid["id"]) == "This pass is not paid yet"
    assert refused(owner, workshop["id"], sessions_only["id"]) == \
        "This pass is only valid for session events"
    assert book_with(app, owner, first["id"], one_credit["id"]).status_code == 201
    assert refused(owner, second["id"], one_credit["id"]) == "This pass has no credits left"
    _, expiring, _ = paid_pass(app, fake_razorpay, owner, facilitator, valid_days=1)
    app.clock_file.write_text(str(25 * 3600))  # a day and an hour on: the one-day pass expired
    owner = login(app.client, owner.email)  # the earlier token lapsed with it
    assert refused(owner, second["id"], expiring["id"]) == "This pass has expired"
    assert my_passes(app, owner)[expiring["id"]]["status"] == "expired"
    # No refused attempt left a booking, a seat or a spent credit behind.
    assert app.rows("SELECT count(*) AS n FROM bookings WHERE event_id=:e", e=second["id"]) == [
        {"n": 0}]
    assert my_passes(app, owner)[expiring["id"]]["credits_left"] == 3


def test_cancelling_inside_the_full_refund_tier_returns_the_credit_later_forfeits_it(
        app: App, fake_razorpay: FakeRazorpay):
    facilitator, attendee = app.facilitator(), app.attendee()
    _, purchase, _ = paid_pass(app, fake_razorpay, attendee, facilitator)
    early = app.event(facilitator, refund_policy=FULL_REFUND_UNTIL_48H, **starting_in(24 * 10))
    late = app.event(facilitator, refund_policy=FULL_REFUND_UNTIL_48H, **starting_in(24))
    early_booking = book_with(app, attendee, early["id"], purchase["id"]).json()["booking"]
    late_booking = book_with(app, attendee, late["id"], purchase["id"]).json()["booking"]
    assert my_passes(app, attendee)[purchase["id"]]["credits_left"] == 1

    for booking, credit in ((early_booking, "returned"), (late_booking, "forfeited")):
        cancelled = app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)
        assert cancelled.status_code == 200, cancelled.text
        # No money moved (a credit, not a payment); the answer says what became of the credit.
        assert cancelled.json() == {"message": "Booking cancelled successfully", "refund": None,
                                    "pass_credit": credit}

    owned = my_passes(app, attendee)[purchase["id"]]
    assert owned["credits_left"] == 2
    assert {h["booking_id"]: h["credit"] for h in owned["history"]} == {
        early_booking["id"]: "returned", late_booking["id"]: "forfeited"}
    assert app.rows("SELECT count(*) AS n FROM refunds WHERE booking_id IN (:a, :b)",
                    a=early_booking["id"], b=late_booking["id"]) == [{"n": 0}]


def test_the_facilitator_cancelling_the_event_returns_the_credit(
        app: App, fake_razorpay: FakeRazorpay):
    facilitator, attendee = app.facilitator(), app.attendee()
    _, purchase, _ = paid_pass(app, fake_razorpay, attendee, facilitator)
    event = app.event(facilitator, refund_policy=FULL_REFUND_UNTIL_48H, **starting_in(24))
    booking = book_with(app, attendee, event["id"], purchase["id"]).json()["booking"]

    cancelled = app.client.post(f"/facilitator/events/{event['id']}/cancel",
                                headers=facilitator.headers)

    assert cancelled.status_code == 200, cancelled.text
    owned = my_passes(app, attendee)[purchase["id"]]
    assert owned["credits_left"] == 3
    assert [(h["booking_id"], h["credit"]) for h in owned["history"]] == [
        (booking["id"], "returned")]


def test_ten_simultaneous_bookings_spend_exactly_the_three_credits(
        app: App, fake_razorpay: FakeRazorpay):
    """One person, two devices, ten classes at the same moment: the pass row lock and the
    CHECK keep credits from going below zero."""
    facilitator, attendee = app.facilitator(), app.attendee()
    _, purchase, _ = paid_pass(app, fake_razorpay, attendee, facilitator, credits=3)
    events = [app.event(facilitator, title=f"Class {n}") for n in range(10)]

    def attempt(event_id: int) -> httpx.Response:
        with httpx.Client(base_url=app.url, timeout=60) as client:
            return client.post("/bookings", headers=attendee.headers,
                               json={"event_id": event_id, "pass_id": purchase["id"]})

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(attempt, [e["id"] for e in events]))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 3 + [400] * 7, [a.text for a in answers]
    assert {a.json()["error"] for a in answers if a.status_code == 400} == {
        "This pass has no credits left"}
    assert my_passes(app, attendee)[purchase["id"]]["credits_left"] == 0
    assert app.rows("SELECT count(*) AS n FROM pass_credits WHERE pass_purchase_id=:p",
                    p=purchase["id"]) == [{"n": 3}]
    ids = [e["id"] for e in events]
    seats = app.rows("SELECT sum(seats_taken) AS n FROM events WHERE id = ANY(:ids)", ids=ids)
    assert seats == [{"n": 3}]


# --- payments nobody reported, and a crash between capture and activation ---------------------


@pytest.fixture(scope="module")
def own_fake() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def reconciling_app(tmp_path_factory: pytest.TempPathFactory,
                    own_fake: FakeRazorpay) -> Iterator[App]:
    yield from start_app(tmp_path_factory, "booking-app-pass-reconcile", own_fake.env(
        RAZORPAY_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS), PAYMENT_RECONCILE_INTERVAL_SECONDS="0"))


def test_a_pass_payment_nobody_reported_is_activated_by_the_reconcile_job(
        reconciling_app: App, own_fake: FakeRazorpay):
    """The state a crash between capture and activation leaves: money captured at the gateway,
    nothing recorded here (no callback, no webhook). The reconcile job finds and applies it."""
    app = reconciling_app
    attendee = app.attendee()
    purchase = buy(app, attendee, define_pass(app, app.facilitator())["id"])["purchase"]
    authorised_only = buy(app, app.attendee(), define_pass(app, app.facilitator())["id"])
    own_fake.pay(purchase["payment_reference"])
    own_fake.pay(authorised_only["purchase"]["payment_reference"], authorize_only=True)

    def active(owner: Account, purchase_id: int) -> bool:
        return my_passes(app, owner).get(purchase_id, {}).get("status") == "active"

    app.wait_for(lambda: active(attendee, purchase["id"]))
    assert app.rows("SELECT status, credits_left FROM pass_purchases WHERE id=:p",
                    p=authorised_only["purchase"]["id"]) != []
    app.wait_for(lambda: app.rows("SELECT status FROM pass_purchases WHERE id=:p",
                                  p=authorised_only["purchase"]["id"])[0]["status"] == "active")
    assert app.rows("SELECT count(*) AS n FROM payments WHERE pass_purchase_id IN (:a, :b)",
                    a=purchase["id"], b=authorised_only["purchase"]["id"]) == [{"n": 2}]


@pytest.fixture(scope="module")
def crashable_app(tmp_path_factory: pytest.TempPathFactory,
                  own_fake: FakeRazorpay) -> Iterator[tuple[App, ServerProcess, Barrier]]:
    """An app this module may kill -9 and start again on the same database, with a barrier to
    stop a request inside its transaction. Its reconcile runs once when it starts."""
    barrier = Barrier().start()
    for url, engine in _own_database():
        clock_file = tmp_path_factory.mktemp("pass-crash-clock") / "offset"
        clock_file.write_text("0")
        port = free_port()
        server = booking_app(
            database_url=url, port=port, clock_file=clock_file, name="booking-app-pass-crash",
            extra_env={"CRM_URL": "http://127.0.0.1:9", "JOBS_ENABLED": "true",
                       "PAYMENT_RECONCILE_INTERVAL_SECONDS": "86400",
                       **own_fake.env(RAZORPAY_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
                                      CRM_BOOKING_PAUSE_ADDRESS=barrier.address)},
        ).start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                yield App(f"http://127.0.0.1:{port}", client, engine, clock_file), server, barrier
        finally:
            server.stop()
            barrier.stop()


def test_a_crash_between_capture_and_activation_is_recovered_once(
        crashable_app: tuple[App, ServerProcess, Barrier], own_fake: FakeRazorpay):
    """kill -9 while the success callback holds the purchase row (the payment is captured at
    the gateway, nothing committed here). After the restart the reconcile finds the payment and
    activates the pass; Razorpay's webhook and the browser's callback, redelivered later,
    change nothing: one payment row, one active pass, one confirmation, no refund."""
    app, server, barrier = crashable_app
    attendee = app.attendee()
    purchase = buy(app, attendee, define_pass(app, app.facilitator())["id"])["purchase"]
    fields = own_fake.pay(purchase["payment_reference"])

    with ThreadPoolExecutor(max_workers=1) as pool, \
            barrier.hold("apply_pass_payment.locked") as held:
        callback = pool.submit(app.client.post, "/payment/success", json=fields)
        assert held.reached.wait(30)
        server.kill()
        with pytest.raises(httpx.HTTPError):
            callback.result()
    assert app.rows("SELECT status FROM pass_purchases WHERE id=:p", p=purchase["id"]) == [
        {"status": "pending"}]
    server.start()

    app.wait_for(lambda: app.rows("SELECT status FROM pass_purchases WHERE id=:p",
                                  p=purchase["id"])[0]["status"] == "active")
    body = own_fake.webhook_body("payment.captured", payment_id=fields["razorpay_payment_id"])
    assert own_fake.send_webhook(app.url, body).status_code == 200
    assert app.client.post("/payment/success", json=fields).status_code == 200
    owned = my_passes(app, attendee)[purchase["id"]]
    assert (owned["status"], owned["credits_left"]) == ("active", 3)
    assert app.rows("SELECT count(*) AS n FROM payments WHERE pass_purchase_id=:p",
                    p=purchase["id"]) == [{"n": 1}]
    assert app.rows("SELECT count(*) AS n FROM refunds WHERE pass_purchase_id=:p",
                    p=purchase["id"]) == [{"n": 0}]
    assert app.rows("SELECT count(*) AS n FROM outbox WHERE action='pass_purchased' AND "
                    "idempotency_key LIKE :k", k=f"pass-{purchase['id']}-%") == [{"n": 1}]


def test_a_refused_refund_of_a_pass_payment_is_raised_to_staff_and_retried(
        app: App, fake_razorpay: FakeRazorpay):
    """The refund machinery is the bookings': a refusal is listed for admins (with the pass's
    name), retried from the console, and the payment listing shows the purchase."""
    from tests.payments.test_admin_console import _admin

    admin = _admin(app)
    attendee = app.attendee()
    _, purchase, _ = paid_pass(app, fake_razorpay, attendee, app.facilitator(), name="Refund me")
    fake_razorpay.state.refund_failures.append(RefundFailure())
    second = fake_razorpay.pay(purchase["payment_reference"])
    assert app.client.post("/payment/success", json=second).status_code == 200
    [refused] = app.rows("SELECT id, status FROM refunds WHERE pass_purchase_id=:p",
                         p=purchase["id"])
    assert refused["status"] == "failed"

    listed = app.client.get("/admin/refunds", headers=admin.headers).json()["refunds"]
    [mine] = [r for r in listed if r["id"] == refused["id"]]
    assert (mine["pass_purchase_id"], mine["booking_id"], mine["event"]) == (
        purchase["id"], None, {"id": None, "title": "Class pass: Refund me"})
    retried = app.client.post(f"/admin/refunds/{refused['id']}/retry", headers=admin.headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["refund"]["status"] == "processed"
    assert len(fake_razorpay.refunds_of(second["razorpay_payment_id"])) == 1
    assert my_passes(app, attendee)[purchase["id"]]["status"] == "active"
    payments = app.client.get("/admin/payments", headers=admin.headers,
                              params={"limit": 50}).json()["payments"]
    assert {p["booking_reference"] for p in payments
            if p["pass_purchase_id"] == purchase["id"]} == {purchase["reference"]}
