"""Numbered receipts: one per captured payment, one credit note per processed refund.

Issuing is separate from the payment path: `issue_due` (a background job, and on demand before
a receipt is shown) finds captured payments and processed refunds that have none yet and gives
each the next number of its series (`R-000001`, credit notes `CN-000001`). The number comes from
a counter row updated in the same transaction as the receipt's insert, so numbers have no gaps
(a transaction that fails rolls its number back) and two workers can never issue the same
payment twice (unique payment/refund ids). Issuing takes no lock on events, bookings, payments
or refunds, so it cannot join a lock-order cycle; the counter row is the only row it locks.

Everything printed is frozen in the receipt's `document` when it is issued: a later change of
the seller settings or of the event does not rewrite a receipt already given out. The PDF is
rendered from that document with fpdf2 each time it is downloaded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fpdf import FPDF
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import read_session, transaction
from crm_booking.errors import NotFound
from crm_booking.models import (
    Booking,
    Event,
    Payment,
    Receipt,
    ReceiptCounter,
    ReceiptKind,
    Refund,
    RefundStatus,
    User,
)
from crm_booking.services import booking as booking_service
from crm_booking.settings import get_settings

SERIES = {ReceiptKind.PAYMENT: "R", ReceiptKind.REFUND: "CN"}
FONTS = Path(__file__).resolve().parent.parent / "fonts"
PAISE = Decimal("0.01")


@dataclass(frozen=True)
class ReceiptSummary:
    number: str
    kind: str
    amount: Decimal
    currency: str
    issued_at: datetime
    booking_id: int


# --- issuing ----------------------------------------------------------------------------------


def _next_number(session: Session, series: str) -> tuple[int, str]:
    """The counter's row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) serialises issuers."""
    sequence = session.execute(
        sa.update(ReceiptCounter)
        .where(col(ReceiptCounter.series) == series)
        .values(last_number=ReceiptCounter.last_number + 1)
        .returning(col(ReceiptCounter.last_number))
    ).scalar_one_or_none()
    if sequence is None:  # a series the migration did not seed
        session.add(ReceiptCounter(series=series, last_number=1))
        session.flush()
        sequence = 1
    return sequence, f"{series}-{sequence:06d}"


def _local(value: datetime) -> datetime:
    return clock.as_utc(value).astimezone(ZoneInfo(get_settings().DEFAULT_TIMEZONE))


def _display_time(value: datetime) -> str:
    local = _local(value)
    return local.strftime("%d %b %Y, %H:%M ") + (local.strftime("%Z") or "")


def _seller() -> dict[str, Any]:
    settings = get_settings()
    lines = [line.strip() for line in settings.SELLER_ADDRESS.replace(";", "\n").split("\n")]
    return {"name": settings.SELLER_NAME, "address": [line for line in lines if line],
            "gstin": settings.SELLER_GSTIN or None}


def tax_lines(amount: Decimal) -> dict[str, str] | None:
    """GST included in the price: taxable value plus CGST and SGST (an intra-state supply: the
    event happens, or an online attendee's address is unknown, in the seller's state)."""
    settings = get_settings()
    if not settings.SELLER_GSTIN:
        return None
    rate = Decimal(settings.SELLER_GST_RATE_PERCENT)
    taxable = (amount * 100 / (100 + rate)).quantize(PAISE, rounding=ROUND_HALF_UP)
    tax = amount - taxable
    central = (tax / 2).quantize(PAISE, rounding=ROUND_HALF_UP)
    return {"rate": f"{rate.normalize():f}", "taxable": f"{taxable:.2f}",
            "cgst": f"{central:.2f}", "sgst": f"{tax - central:.2f}",
            "half_rate": f"{(rate / 2).normalize():f}", "sac": settings.SELLER_SAC_CODE,
            "place_of_supply": settings.SELLER_GSTIN[:2]}


def _document(kind: ReceiptKind, number: str, booking: Booking, event: Event, attendee: User,
              amount: Decimal, when: datetime, reference: str | None,
              against: str | None) -> dict[str, Any]:
    tax = tax_lines(amount)
    if kind is ReceiptKind.REFUND:
        title = "Credit note" if tax else "Refund receipt"
    else:
        title = "Tax invoice" if tax else "Receipt"
    return {
        "title": title, "kind": kind.value, "number": number, "date": _display_time(when),
        "seller": _seller(), "buyer": {"name": attendee.name, "email": attendee.email},
        "booking_reference": booking.booking_reference,
        "item": f"{event.title} ({_display_time(event.start_at)})",
        "amount": f"{amount:.2f}", "currency": booking.currency, "tax": tax,
        "gateway_reference": reference, "against": against,
    }


def _issue(kind: ReceiptKind, *, booking_id: int, amount: Decimal, when: datetime,
           reference: str | None, payment_row_id: int | None = None,
           refund_row_id: int | None = None) -> bool:
    """One receipt in its own transaction; False when another worker issued it first."""
    try:
        with transaction() as session:
            booking = session.get(Booking, booking_id)
            assert booking is not None
            event = session.get(Event, booking.event_id)
            attendee = session.get(User, booking.user_id)
            assert event is not None and attendee is not None
            against = None
            if kind is ReceiptKind.REFUND:
                against = session.exec(
                    select(Receipt.number).where(Receipt.booking_id == booking_id,
                                                 Receipt.kind == ReceiptKind.PAYMENT.value)
                    .order_by(col(Receipt.id))
                ).first()
            sequence, number = _next_number(session, SERIES[kind])
            document = _document(kind, number, booking, event, attendee, amount, when,
                                 reference, against)
            session.add(Receipt(
                number=number, series=SERIES[kind], sequence=sequence, kind=kind.value,
                booking_id=booking_id, payment_row_id=payment_row_id, refund_row_id=refund_row_id,
                amount=amount, currency=booking.currency, document=json.dumps(document),
                issued_at=clock.now(),
            ))
        return True
    except sa.exc.IntegrityError:
        return False  # issued meanwhile by another worker; its number was rolled back


def _due_payments(session: Session, booking_id: int | None, limit: int) -> list[Payment]:
    query = (
        select(Payment)
        .outerjoin(Receipt, col(Receipt.payment_row_id) == Payment.id)
        .where(Payment.status == "captured", col(Payment.amount) > 0, col(Receipt.id).is_(None),
               # Receipts are per booking; a class pass's payment has none (issue 17).
               col(Payment.booking_id).is_not(None))
        .order_by(col(Payment.created_at), col(Payment.id)).limit(limit)
    )
    if booking_id is not None:
        query = query.where(Payment.booking_id == booking_id)
    return list(session.exec(query).all())


def _due_refunds(session: Session, booking_id: int | None, limit: int) -> list[Refund]:
    query = (
        select(Refund)
        .outerjoin(Receipt, col(Receipt.refund_row_id) == Refund.id)
        .where(Refund.status == RefundStatus.PROCESSED.value, col(Refund.amount) > 0,
               col(Receipt.id).is_(None), col(Refund.booking_id).is_not(None))
        .order_by(col(Refund.updated_at), col(Refund.id)).limit(limit)
    )
    if booking_id is not None:
        query = query.where(Refund.booking_id == booking_id)
    return list(session.exec(query).all())


def issue_due(limit: int = 100, booking_id: int | None = None) -> int:
    """Issue what is owed (payments before refunds, oldest first); returns how many."""
    with read_session() as session:
        payments = _due_payments(session, booking_id, limit)
        refunds = _due_refunds(session, booking_id, limit)
    issued = 0
    for payment in payments:
        assert payment.booking_id is not None  # pass payments are filtered out above
        issued += _issue(ReceiptKind.PAYMENT, booking_id=payment.booking_id, amount=payment.amount,
                         when=payment.created_at, reference=payment.razorpay_payment_id,
                         payment_row_id=payment.id)
    for refund in refunds:
        assert refund.booking_id is not None
        issued += _issue(ReceiptKind.REFUND, booking_id=refund.booking_id, amount=refund.amount,
                         when=refund.updated_at, reference=refund.razorpay_refund_id,
                         refund_row_id=refund.id)
    return issued


# --- reading ----------------------------------------------------------------------------------


def _summary(receipt: Receipt) -> ReceiptSummary:
    return ReceiptSummary(receipt.number, receipt.kind, receipt.amount, receipt.currency,
                          receipt.issued_at, receipt.booking_id)


def _for_booking(booking_id: int) -> list[Receipt]:
    issue_due(booking_id=booking_id)
    with read_session() as session:
        return list(session.exec(
            select(Receipt).where(Receipt.booking_id == booking_id).order_by(col(Receipt.id))
        ).all())


def booking_receipts(*, user_id: int, booking_id: int) -> list[ReceiptSummary]:
    """The owner's receipts for a booking (another person's booking is a 404)."""
    booking_service.get_booking(user_id=user_id, booking_id=booking_id)
    return [_summary(r) for r in _for_booking(booking_id)]


def receipt_pdf(*, user_id: int, booking_id: int, number: str) -> tuple[str, bytes]:
    booking_service.get_booking(user_id=user_id, booking_id=booking_id)
    for receipt in _for_booking(booking_id):
        if receipt.number == number:
            return f"{number}.pdf", render_pdf(json.loads(receipt.document))
    raise NotFound("Receipt not found")


# --- the link in the receipt email -----------------------------------------------------------


def link_token(reference: str) -> str:
    """Lets the receipt email's link open the PDF without signing in, for that booking only."""
    key = get_settings().JWT_SECRET_KEY.encode()
    return hmac.new(key, f"receipt:{reference}".encode(), hashlib.sha256).hexdigest()[:32]


def email_link(reference: str | None) -> str | None:
    if not reference:
        return None
    base = get_settings().PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/receipts/{reference}?token={link_token(reference)}"


def receipt_pdf_by_link(*, reference: str, token: str) -> tuple[str, bytes]:
    """The booking's latest payment receipt, for the holder of the emailed link."""
    if not hmac.compare_digest(token.encode(), link_token(reference).encode()):
        raise NotFound("Receipt not found")
    try:
        row = booking_service.get_booking_by_reference(reference)
    except NotFound:
        raise NotFound("Receipt not found") from None
    payments = [r for r in _for_booking(row.booking.id) if r.kind == ReceiptKind.PAYMENT.value]  # type: ignore[arg-type]
    if not payments:
        raise NotFound("Receipt not found")
    latest = payments[-1]
    return f"{latest.number}.pdf", render_pdf(json.loads(latest.document))


# --- the PDF ----------------------------------------------------------------------------------


def _money(text: str, currency: str) -> str:
    value = Decimal(text)
    sign = "₹" if currency == "INR" else f"{currency} "
    return f"{sign}{value:,.2f}"


def render_pdf(doc: dict[str, Any]) -> bytes:
    """A one-page A4 receipt. fpdf2 with the bundled DejaVu Sans, which has the rupee sign."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"{doc['title']} {doc['number']}")
    pdf.set_author(doc["seller"]["name"])
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: float = 10, style: str = "", height: float = 5.5) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, height, text, new_x="LMARGIN", new_y="NEXT")

    seller = doc["seller"]
    line(seller["name"], 15, "B", 8)
    for address_line in seller["address"]:
        line(address_line)
    if seller.get("gstin"):
        line(f"GSTIN: {seller['gstin']}")
    pdf.ln(6)
    line(doc["title"], 18, "B", 9)
    line(f"{doc['title']} number: {doc['number']}", 11, "B")
    line(f"Date: {doc['date']}")
    if doc.get("against"):
        line(f"Against receipt: {doc['against']}")
    pdf.ln(4)
    line("Billed to", 10, "B")
    line(f"{doc['buyer']['name']} <{doc['buyer']['email']}>")
    line(f"Booking reference: {doc['booking_reference']}")
    pdf.ln(4)
    _amount_table(pdf, doc, width)
    pdf.ln(4)
    if doc.get("gateway_reference"):
        label = "Refund reference" if doc["kind"] == "refund" else "Payment reference"
        line(f"{label}: {doc['gateway_reference']} (Razorpay)", 9)
    note = ("This amount has been refunded to the original payment method."
            if doc["kind"] == "refund" else "Paid in full. Thank you!")
    line(note, 9)
    return bytes(pdf.output())


def _amount_table(pdf: FPDF, doc: dict[str, Any], width: float) -> None:
    currency, tax = doc["currency"], doc.get("tax")
    amount_width = 45

    def row(label: str, amount: str, style: str = "") -> None:
        """A long description wraps; the amount cell takes the same height beside it."""
        pdf.set_font("DejaVu", style, 10)
        label_width = width - amount_width
        lines: list[str] = pdf.multi_cell(label_width, 7, label, dry_run=True, output="LINES")  # type: ignore[assignment]
        x, y = pdf.get_x(), pdf.get_y()
        pdf.multi_cell(label_width, 7, label, border="B", new_x="RIGHT", new_y="TOP")
        pdf.set_xy(x + label_width, y)
        pdf.cell(amount_width, 7 * len(lines), amount, border="B", align="R",
                 new_x="LMARGIN", new_y="NEXT")

    row("Description", "Amount", "B")
    item = doc["item"] + (f" (SAC {tax['sac']})" if tax else "")
    if tax:
        row(item, _money(tax["taxable"], currency))
        row(f"CGST {tax['half_rate']}%", _money(tax["cgst"], currency))
        row(f"SGST {tax['half_rate']}%", _money(tax["sgst"], currency))
    else:
        row(item, _money(doc["amount"], currency))
    total = "Total refunded" if doc["kind"] == "refund" else "Total paid"
    row(total, _money(doc["amount"], currency), "B")
    if tax:
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(width, 5, f"Prices include GST at {tax['rate']}%. Place of supply: "
                                 f"state code {tax['place_of_supply']}.",
                       new_x="LMARGIN", new_y="NEXT")
