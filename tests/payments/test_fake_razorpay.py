"""Issue 13, Proof: the fake gateway behaves as Razorpay documents for items 15-19, checked with
the official `razorpay` client against the fake on loopback (no Booking app involved)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError

from tests.fakes.razorpay_server import ApiFailure, FakeRazorpay, hmac_hex


@pytest.fixture
def fake(fake_razorpay: FakeRazorpay) -> Iterator[FakeRazorpay]:
    fake_razorpay.reset()
    yield fake_razorpay
    fake_razorpay.reset()


@pytest.fixture
def client(fake: FakeRazorpay) -> razorpay.Client:
    return razorpay.Client(auth=(fake.key_id, fake.key_secret), base_url=fake.url)


def _order(client: razorpay.Client, receipt: str, **extra: object) -> dict:  # type: ignore[type-arg]
    return dict(client.order.create({"amount": 5000, "currency": "INR", "receipt": receipt,
                                     **extra}))


def _receipt() -> str:
    import secrets

    return f"fake-test-{secrets.token_hex(4)}"


def test_without_automatic_capture_a_payment_is_only_authorised(fake: FakeRazorpay,
                                                              client: razorpay.Client):
    fake.state.auto_capture_account = False
    order = _order(client, _receipt(), payment_capture=1)  # deprecated: ignored
    paid = fake.pay(order["id"])
    payment = client.payment.fetch(paid["razorpay_payment_id"])
    assert payment["status"] == "authorized" and payment["captured"] is False

    with pytest.raises(BadRequestError, match="equal to the amount authorized"):
        client.payment.capture(payment["id"], 4000, {"currency": "INR"})
    captured = client.payment.capture(payment["id"], 5000, {"currency": "INR"})
    assert captured["status"] == "captured"
    with pytest.raises(BadRequestError, match="already been captured"):
        client.payment.capture(payment["id"], 5000, {"currency": "INR"})


def test_order_capture_options_take_precedence_over_the_account(fake: FakeRazorpay,
                                                               client: razorpay.Client):
    fake.state.auto_capture_account = False
    order = _order(client, _receipt(), payment={"capture": "automatic", "capture_options": {
        "automatic_expiry_period": 12, "manual_expiry_period": 7200, "refund_speed": "normal"}})
    assert client.payment.fetch(fake.pay(order["id"])["razorpay_payment_id"])["status"] == "captured"
    late = fake.pay(order["id"], authorize_only=True)  # a late authorisation
    assert client.payment.fetch(late["razorpay_payment_id"])["status"] == "authorized"
    statuses = {p["status"] for p in client.order.payments(order["id"])["items"]}
    assert statuses == {"captured", "authorized"}


def test_a_receipt_is_unique_per_account_and_finds_its_order(client: razorpay.Client):
    receipt = _receipt()
    first = _order(client, receipt)
    with pytest.raises(BadRequestError, match="same receipt"):
        _order(client, receipt)
    found = client.order.all({"receipt": receipt})
    assert [o["id"] for o in found["items"]] == [first["id"]]


def test_refund_failed_is_announced_and_frees_the_amount(fake: FakeRazorpay,
                                                         client: razorpay.Client):
    order = _order(client, _receipt())
    payment_id = fake.pay(order["id"])["razorpay_payment_id"]
    fake.state.refund_status = "pending"
    refund = client.payment.refund(payment_id, {"amount": 5000})
    fake.fail_refund(refund["id"])

    body = fake.webhook_body("refund.failed", refund_id=refund["id"])
    raw = json.dumps(body, separators=(",", ":"))
    assert body["payload"]["refund"]["entity"]["status"] == "failed"
    assert client.utility.verify_webhook_signature(raw, hmac_hex(fake.webhook_secret, raw),
                                                   fake.webhook_secret)
    assert client.payment.fetch(payment_id)["status"] == "captured"  # refundable again


def test_slow_answer_times_out_after_the_order_was_made(fake: FakeRazorpay,
                                                        client: razorpay.Client):
    receipt = _receipt()
    fake.state.order_delay = 1.5
    with pytest.raises(requests.Timeout):
        client.order.create({"amount": 5000, "currency": "INR", "receipt": receipt}, timeout=0.5)
    fake.state.order_delay = 0.0
    assert client.order.all({"receipt": receipt})["count"] == 1


def test_rate_limit_and_bad_keys_look_like_bad_requests_to_the_client(
        fake: FakeRazorpay, client: razorpay.Client):
    """Why the adapter classifies by HTTP status: the official client raises BadRequestError for
    a 429 and a 401 alike, because Razorpay answers both with the code BAD_REQUEST_ERROR."""
    fake.state.api_failures.append(ApiFailure("/v1/orders", 429, description="Too many requests"))
    with pytest.raises(BadRequestError, match="Too many requests"):
        _order(client, _receipt())
    wrong_keys = razorpay.Client(auth=(fake.key_id, "not-the-secret"), base_url=fake.url)
    with pytest.raises(BadRequestError, match="Authentication failed"):
        _order(wrong_keys, _receipt())
