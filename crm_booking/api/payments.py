"""Endpoints 15 and 16, the Razorpay webhook, and the checkout page `/pay/{reference}`."""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from crm_booking.api.deps import CurrentUser
from crm_booking.api.schemas import ValidText
from crm_booking.errors import DomainError
from crm_booking.gateways.payments import GatewayFailure
from crm_booking.services import cancellation_policy, events, passes, payment, refund, views
from crm_booking.settings import get_settings
from crm_booking.state import formatting

router = APIRouter(tags=["payments"])

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "templates" / "checkout.html"


class _Callback(ValidText):
    # Razorpay's handlers send more than we read; unknown fields are ignored, not refused.
    model_config = ConfigDict(extra="ignore")


class PaymentSuccessRequest(_Callback):
    razorpay_payment_id: str = Field(min_length=1, max_length=64)
    razorpay_order_id: str = Field(min_length=1, max_length=64)
    razorpay_signature: str = Field(min_length=1, max_length=256)


class PaymentFailureRequest(_Callback):
    razorpay_order_id: str = Field(min_length=1, max_length=64)
    razorpay_payment_id: str | None = Field(default=None, max_length=64)
    error_code: str | None = Field(default=None, max_length=100)
    error_description: str | None = Field(default=None, max_length=2000)


class PaymentBookingOut(BaseModel):
    id: int
    booking_reference: str
    payment_status: str
    status: str


class PaymentResultOut(BaseModel):
    message: str
    # A booking's payment answers `booking`; a class pass purchase's `purchase` (issue 17).
    booking: PaymentBookingOut | None = None
    purchase: dict[str, Any] | None = None
    refund: dict[str, Any] | None = None


SUCCESS_MESSAGES = {
    payment.Outcome.PAID: "Payment processed successfully",
    payment.Outcome.ALREADY_RECORDED: "Payment processed successfully",
    payment.Outcome.REFUNDING: "Payment received after the seat was no longer available; "
                               "it is being refunded",
}


@router.post("/payment/success", response_model=PaymentResultOut, response_model_exclude_none=True)
def payment_success(body: PaymentSuccessRequest) -> dict[str, Any]:
    applied = payment.record_success(order_id=body.razorpay_order_id,
                                     payment_id=body.razorpay_payment_id,
                                     signature=body.razorpay_signature)
    if isinstance(applied, passes.PassApplied):
        return _pass_result(applied)
    answer: dict[str, Any] = {"message": SUCCESS_MESSAGES[applied.outcome],
                              "booking": views.payment_result(applied.booking)}
    if applied.outcome == payment.Outcome.REFUNDING:
        answer["refund"] = views.refund(applied.refund)
    return answer


@router.post("/payment/failure", response_model=PaymentResultOut, response_model_exclude_none=True)
def payment_failure(body: PaymentFailureRequest) -> dict[str, Any]:
    booking = payment.record_failure(order_id=body.razorpay_order_id,
                                     payment_id=body.razorpay_payment_id,
                                     error_code=body.error_code,
                                     error_description=body.error_description)
    if isinstance(booking, passes.PurchaseRow):
        return {"message": "Payment failure recorded",
                "purchase": views.pass_purchase(booking.purchase, booking.product)}
    return {"message": "Payment failure recorded", "booking": views.payment_result(booking)}


def _pass_result(applied: passes.PassApplied) -> dict[str, Any]:
    refunding = applied.refund is not None and not applied.activated \
        and applied.refund.razorpay_payment_id != applied.purchase.payment_id
    answer: dict[str, Any] = {
        "message": ("Payment received twice; the second payment is being refunded" if refunding
                    else "Payment processed successfully"),
        "purchase": views.pass_purchase(applied.purchase, applied.product)}
    if refunding or (applied.refund is not None and not applied.activated
                     and applied.purchase.status != "active"):
        answer["refund"] = views.refund(applied.refund)
    return answer


@router.post("/payment/webhook")
async def payment_webhook(
    request: Request,
    x_razorpay_signature: Annotated[str, Header()] = "",
    x_razorpay_event_id: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    # The signature covers the exact bytes received, so the body is read raw, never re-encoded.
    raw = await request.body()
    result = await run_in_threadpool(payment.handle_webhook, raw_body=raw,
                                     signature=x_razorpay_signature, event_id=x_razorpay_event_id)
    return {"status": "duplicate" if result.duplicate else "ok", "event": result.event_type}


@router.get("/facilitator/events/{event_id}/refunds")
def event_refunds(event_id: int, user: CurrentUser) -> dict[str, Any]:
    """Every refund of an event's bookings; `failed_refunds` are those the gateway refused,
    for the facilitator to follow up (cancelling the event again retries them)."""
    events.event_bookings(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]  # 403/404
    rows = refund.for_event(event_id)
    listed = [{"id": r.id, "booking_id": r.booking_id, "reason": r.reason,
               "needs_attention": refund.needs_attention(r), **(views.refund(r) or {})}
              for r in rows]
    # Refused ones, and (issue 13) ones still unsettled past REFUND_ALERT_AFTER_MINUTES.
    return {"refunds": listed, "failed_refunds": [r for r in listed if r["needs_attention"]]}


# --- checkout page ------------------------------------------------------------------------------


@router.get("/pay/{reference}", response_class=HTMLResponse, include_in_schema=False)
def checkout_page(reference: str, token: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    try:
        if passes.is_pass_reference(reference):
            return HTMLResponse(_render_pass(passes.open_checkout(reference, token), token),
                                headers={"Cache-Control": "no-store"})
        page = payment.open_checkout(reference, token)
    except DomainError as exc:
        return HTMLResponse(_message_page(exc.message), status_code=exc.status_code)
    except GatewayFailure:
        # An HTML page for a person, not a JSON 500: the seat stays held, trying again is safe.
        retry = f"/pay/{quote(reference)}?token={quote(token)}"
        return HTMLResponse(_message_page(
            "Payments are unavailable for a moment",
            "We could not reach Razorpay to prepare your payment. Your seat is still held; "
            "please try again in a minute.", retry_url=retry),
            status_code=503, headers={"Retry-After": "30", "Cache-Control": "no-store"})
    return HTMLResponse(_render(page, token), headers={"Cache-Control": "no-store"})


@router.post("/pay/{reference}/sandbox", include_in_schema=False)
def sandbox_checkout(reference: str, token: Annotated[str, Query(max_length=64)] = "",
                     outcome: Annotated[str, Query(pattern="^(success|failure)$")] = "success",
                     ) -> JSONResponse:
    if passes.is_pass_reference(reference):
        fields = passes.sandbox_callback(reference, token, succeed=outcome == "success")
    else:
        fields = payment.sandbox_callback(reference, token, succeed=outcome == "success")
    return JSONResponse(fields, headers={"Cache-Control": "no-store"})


@lru_cache
def _template() -> Template:
    return Template(TEMPLATE_PATH.read_text(encoding="utf-8"))


def _render(page: payment.CheckoutPage, token: str) -> str:
    booking, event = page.booking, page.event
    reference = booking.booking_reference or ""
    sandbox = page.gateway == "sandbox"
    data = {
        "reference": reference, "order_id": booking.razorpay_order_id, "key_id": page.key_id,
        "amount_paise": refund.to_paise(booking.amount), "currency": booking.currency,
        "event_title": event.title, "prefill": page.prefill,
        "hold_expires_at": _iso(booking) if page.payable else None,
        "timeout_seconds": page.seconds_left,
        "booking_url": f"/app/booking/{quote(reference)}",
        "sandbox_url": f"/pay/{quote(reference)}/sandbox?token={quote(token)}",
    }
    return _template().substitute(
        page_title=html.escape(f"Pay for booking {reference}"),
        reference_label="Booking", back_label="View your booking",
        reference=html.escape(reference),
        event_title=html.escape(event.title),
        # Worded like the booking pages ("Sat 14 Jun 2025, 7:00 AM to 8:00 AM IST", with an en dash).
        event_when=html.escape(formatting.schedule(event.start_at, event.end_at, event.timezone)),
        amount=html.escape(f"₹{views.money(booking.amount):,.2f} {booking.currency}"),
        sandbox_banner=_SANDBOX_BANNER if sandbox else "",
        body=_body(page, sandbox),
        booking_url=html.escape(data["booking_url"]),  # type: ignore[arg-type]
        # JSON inside <script>: "<" escaped so no value can close the tag.
        data_json=json.dumps(data).replace("<", "\\u003c"),
        checkout_script=(
            "" if sandbox or not page.payable else
            f'<script src="{html.escape(get_settings().RAZORPAY_CHECKOUT_JS_URL)}"></script>'
        ),
    )


def _render_pass(page: passes.PassCheckoutPage, token: str) -> str:
    """The same checkout page and script for a class pass: no seat hold, back to "My passes"."""
    purchase, product = page.purchase, page.product
    ref = passes.reference(purchase.id)  # type: ignore[arg-type]
    sandbox = page.gateway == "sandbox"
    data = {
        "reference": ref, "order_id": purchase.razorpay_order_id, "key_id": page.key_id,
        "amount_paise": refund.to_paise(purchase.amount), "currency": purchase.currency,
        "event_title": product.name, "prefill": page.prefill, "hold_expires_at": None,
        "timeout_seconds": None, "booking_url": "/app/passes",
        "sandbox_url": f"/pay/{quote(ref)}/sandbox?token={quote(token)}",
    }
    if page.payable:
        buttons = (('<button type="button" class="pay" data-sandbox="success">Pay (sandbox)</button>'
                    '<button type="button" class="fail" data-sandbox="failure">Fail (sandbox)</button>')
                   if sandbox else
                   '<button type="button" class="pay" id="pay-razorpay">Pay with Razorpay</button>')
        body = (f'<p>Class pass: {product.credits} classes, valid {product.valid_days} days '
                'from payment.</p>' + buttons)
    else:
        state = ("This pass is paid. Nothing more to pay." if purchase.status in ("active", "expired")
                 else "This pass can no longer be paid.")
        body = f'<p class="state" id="booking-state">{html.escape(state)}</p>'
    return _template().substitute(
        page_title=html.escape(f"Pay for class pass {ref}"),
        reference_label="Class pass", back_label="View your passes",
        reference=html.escape(ref), event_title=html.escape(product.name),
        event_when=html.escape(f"{product.credits} classes · valid {product.valid_days} days"),
        amount=html.escape(f"₹{views.money(purchase.amount):,.2f} {purchase.currency}"),
        sandbox_banner=_SANDBOX_BANNER if sandbox else "", body=body,
        booking_url="/app/passes",
        data_json=json.dumps(data).replace("<", "\\u003c"),
        checkout_script=(
            "" if sandbox or not page.payable else
            f'<script src="{html.escape(get_settings().RAZORPAY_CHECKOUT_JS_URL)}"></script>'
        ),
    )


_SANDBOX_BANNER = ('<p class="sandbox" role="note">SANDBOX — no real money. This checkout '
                   'only simulates Razorpay.</p>')


def _body(page: payment.CheckoutPage, sandbox: bool) -> str:
    if not page.payable:
        return f'<p class="state" id="booking-state">{html.escape(_state_text(page))}</p>'
    hold = ('<p>Your seat is held for <strong id="hold-left">'
            f'{get_settings().BOOKING_HOLD_MINUTES} min</strong> more.</p>')
    failed = ""
    if page.booking.payment_status == "failed":
        # Our own words only: the failure callback is unsigned, its text could be anyone's.
        failed = ('<p class="state">The last attempt failed: the payment did not go through. '
                  'You can try again.</p>')
    policy = cancellation_policy.booking_policy_text(page.booking, page.event)
    terms = (f'<p id="refund-policy"><strong>Cancellation policy:</strong> {html.escape(policy)}.</p>'
             if policy else "")
    if sandbox:
        buttons = ('<button type="button" class="pay" data-sandbox="success">Pay (sandbox)</button>'
                   '<button type="button" class="fail" data-sandbox="failure">Fail (sandbox)</button>')
    else:
        buttons = '<button type="button" class="pay" id="pay-razorpay">Pay with Razorpay</button>'
    return hold + failed + terms + buttons


def _state_text(page: payment.CheckoutPage) -> str:
    booking = page.booking
    if booking.payment_status == "completed" and booking.status != "cancelled":
        return "This booking is paid. Nothing more to pay."
    if booking.payment_status == "refunded":
        return "This booking was cancelled and its payment refunded."
    if booking.status == "cancelled":
        if booking.cancellation_reason == "hold_expired":
            return "The seat hold lapsed before payment, so this booking was cancelled."
        return "This booking was cancelled; there is nothing to pay."
    if booking.payment_status in ("pending", "failed"):
        return "The seat hold has lapsed; this booking can no longer be paid."
    return "There is nothing to pay for this booking."


def _iso(booking: Any) -> str | None:
    if booking.hold_expires_at is None:
        return None
    from crm_booking.clock import as_utc

    return as_utc(booking.hold_expires_at).isoformat()


@lru_cache
def _site_frame() -> Template:
    """The checkout page's head, styles and site header: the pages that only say something
    (unknown booking, wrong link, gateway down) look like the rest of the site."""
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    return Template(text[:text.index("<main>")])


def _message_page(message: str, detail: str = "", *, retry_url: str | None = None) -> str:
    paragraph = f"<p>{html.escape(detail)}</p>" if detail else ""
    retry = f'<p><a href="{html.escape(retry_url)}">Try again</a></p>' if retry_url else ""
    return (_site_frame().substitute(page_title=html.escape(f"{message} · Payment"))
            + f'<main><div class="card"><h1>{html.escape(message)}</h1>{paragraph}{retry}'
            '<p><a href="/app/">Back to the events</a></p></div></main></body></html>')
