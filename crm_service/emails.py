"""What each notification says, to whom, rendered as HTML plus a plain-text alternative."""

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo

from crm_service.calendar_invites import CalendarMethod, build_invite
from crm_service.payloads import NotifyRequest

CANCELLING_ACTIONS = frozenset(
    {"booking_cancelled", "event_cancelled", "hold_expired", "late_payment_refunded"}
)
CONFIRMING_ACTIONS = frozenset({"booking_created", "payment_completed"})
EN_DASH = "\u2013"  # between start and end times


@dataclass
class EmailContent:
    """Plain strings only; escaping happens once, when the HTML is rendered."""

    subject: str
    heading: str
    paragraphs: list[str]
    details: list[tuple[str, str]] = field(default_factory=list)
    link: str | None = None


@dataclass
class OutgoingEmail:
    recipient: str
    message: EmailMessage


def format_event_time(start: datetime, end: datetime | None, timezone_name: str) -> str:
    """'Sat 14 Mar 2026, 10:00-11:30 IST (Asia/Kolkata)' (en dash): local wall time, zone named.

    When the clocks change during the event, each end shows its own abbreviation.
    """
    zone = ZoneInfo(timezone_name)
    local_start = start.astimezone(zone)
    text = local_start.strftime("%a %d %b %Y, %H:%M")
    start_zone = local_start.strftime("%Z")
    if end is not None:
        local_end = end.astimezone(zone)
        end_zone = local_end.strftime("%Z")
        same_day = local_end.date() == local_start.date()
        if end_zone != start_zone:
            text += f" {start_zone}"
        text += EN_DASH + local_end.strftime("%H:%M" if same_day else "%a %d %b %Y, %H:%M")
        start_zone = end_zone
    return f"{text} {start_zone} ({timezone_name})"


def format_money(amount: Decimal | None, currency: str | None) -> str | None:
    if amount is None:
        return None
    return f"{amount:,.2f} {currency or 'INR'}"


def notification_emails(request: NotifyRequest, sequence: int, sender: str) -> list[OutgoingEmail]:
    """Every email one notification produces: the attendee's, and the facilitator's if due."""
    emails = [_attendee_email(request, sequence, sender)]
    facilitator_content = _facilitator_content(request)
    if facilitator_content and request.event.facilitator_email:
        recipient = request.event.facilitator_email
        emails.append(OutgoingEmail(recipient, build_message(sender, recipient, facilitator_content)))
    return emails


def test_email(sender: str, recipient: str, subject: str, html_body: str) -> EmailMessage:
    """The operator's own HTML, sent as given (the caller holds the API token)."""
    message = _headers(sender, recipient, subject)
    message.set_content("This is a test email from the CRM service. View it as HTML.\n")
    message.add_alternative(html_body, subtype="html")
    return message


def build_message(sender: str, recipient: str, content: EmailContent) -> EmailMessage:
    message = _headers(sender, recipient, content.subject)
    message.set_content(render_text(content))
    message.add_alternative(render_html(content), subtype="html")
    return message


def _headers(sender: str, recipient: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    # Titles come from users; a line break in a header would be refused (or worse).
    message["Subject"] = re.sub(r"\s+", " ", subject).strip()
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="crm-booking")
    return message


def render_text(content: EmailContent) -> str:
    lines = [content.heading, "", *content.paragraphs, ""]
    lines += [f"{label}: {value}" for label, value in content.details]
    if content.link:
        lines += ["", f"Join online: {content.link}"]
    return "\n".join(lines).rstrip() + "\n"


def render_html(content: EmailContent) -> str:
    e = html.escape
    paragraphs = "".join(f"<p>{e(text)}</p>" for text in content.paragraphs)
    rows = "".join(
        f'<tr><th align="left">{e(label)}</th><td>{e(value)}</td></tr>' for label, value in content.details
    )
    link = f'<p><a href="{e(content.link, quote=True)}">Join online</a></p>' if content.link else ""
    return (
        '<!DOCTYPE html><html><body style="font-family: sans-serif">'
        f"<h2>{e(content.heading)}</h2>{paragraphs}"
        f'<table cellpadding="4">{rows}</table>{link}</body></html>'
    )


def _attendee_email(request: NotifyRequest, sequence: int, sender: str) -> OutgoingEmail:
    recipient = request.user.email
    message = build_message(sender, recipient, _attendee_content(request))
    method = _calendar_method(request.action)
    if method is not None:
        # A cancellation must outrank the invitation it replaces, whatever the history.
        invite_sequence = max(sequence, 1) if method == "CANCEL" else sequence
        organizer = request.event.facilitator_email or _bare_address(sender)
        invite = build_invite(request, method, invite_sequence, organizer)
        if invite is not None:
            message.add_attachment(
                invite,
                maintype="text",
                subtype="calendar",
                filename="cancel.ics" if method == "CANCEL" else "invite.ics",
                params={"method": method},
            )
    return OutgoingEmail(recipient, message)


def _calendar_method(action: str) -> CalendarMethod | None:
    if action in CONFIRMING_ACTIONS:
        return "REQUEST"
    if action in CANCELLING_ACTIONS:
        return "CANCEL"
    return None


def _bare_address(sender: str) -> str:
    match = re.search(r"<([^>]+)>", sender)
    return match.group(1) if match else sender


def _event_details(request: NotifyRequest) -> list[tuple[str, str]]:
    event = request.event
    details = [("Event", event.title)]
    if event.start_datetime is not None:
        details.append(
            (
                "When",
                format_event_time(event.start_datetime, event.end_datetime, event.timezone),
            )
        )
    if event.location:
        details.append(("Where", event.location))
    if event.facilitator_name:
        details.append(("Facilitator", event.facilitator_name))
    details.append(("Booking", request.booking_reference or f"#{request.booking_id}"))
    return details


def _refund_sentence(request: NotifyRequest) -> str | None:
    refund = request.refund
    if refund is not None:
        amount = format_money(refund.amount, refund.currency or request.currency)
        text = f"A refund of {amount} has been issued" if amount else "A refund has been issued"
        if refund.refund_id:
            text += f" (reference {refund.refund_id})"
        return text + ". It usually reaches your account within 5 to 7 working days."
    if request.payment_status == "refunded":
        return "Your payment is being refunded."
    return None


def _attendee_content(request: NotifyRequest) -> EmailContent:
    name, title = request.user.name, request.event.title
    paid = format_money(request.amount, request.currency)
    details = _event_details(request)
    if request.reason:
        details.append(("Reason", request.reason))
    match request.action:
        case "booking_created" if request.awaiting_payment:
            subject, heading = f"Seat reserved: {title}", "Your seat is reserved"
            body = [
                f"Hi {name}, we are holding a seat for you at {title}.",
                "Please complete your payment to keep it; unpaid holds are released.",
            ]
        case "booking_created":
            subject, heading = (
                f"Booking confirmed: {title}",
                "Your booking is confirmed",
            )
            body = [f"Hi {name}, your place at {title} is confirmed. See you there!"]
        case "payment_completed":
            subject, heading = (
                f"Payment received: {title}",
                "Payment received: you're booked",
            )
            body = [f"Hi {name}, thank you for your payment. This email is your receipt."]
            if paid:
                details.append(("Amount paid", paid))
        case "payment_failed":
            subject, heading = (
                f"Payment failed: {title}",
                "Your payment did not go through",
            )
            body = [
                f"Hi {name}, your payment for {title} failed and you have not been charged.",
                "You can try again from your bookings page while your seat is still held.",
            ]
        case "booking_cancelled":
            subject, heading = (
                f"Booking cancelled: {title}",
                "Your booking is cancelled",
            )
            body = [f"Hi {name}, your booking for {title} has been cancelled."]
        case "event_cancelled":
            subject, heading = (
                f"Event cancelled: {title}",
                "This event has been cancelled",
            )
            body = [f"Hi {name}, we are sorry: {title} has been cancelled by the organiser."]
        case "hold_expired":
            subject, heading = (
                f"Reservation expired: {title}",
                "Your reservation has expired",
            )
            body = [
                f"Hi {name}, your seat at {title} has been released.",
                "Payment was not completed before the reservation expired.",
            ]
        case "late_payment_refunded":
            subject, heading = (
                f"Payment refunded: {title}",
                "Your payment has been refunded",
            )
            body = [
                f"Hi {name}, your payment for {title} arrived after your reservation expired.",
                "The seat had already been released, so we have refunded your payment.",
            ]
    refund = _refund_sentence(request) if request.action in CANCELLING_ACTIONS else None
    if refund:
        body.append(refund)
    return EmailContent(subject, heading, body, details, request.event.virtual_link)


def _facilitator_content(request: NotifyRequest) -> EmailContent | None:
    """New booking once it is secured (paid, or free), and cancellations of such bookings."""
    attendee = f"{request.user.name} ({request.user.email})"
    title = request.event.title
    greeting = f"Hi {request.event.facilitator_name or 'there'},"
    details = _event_details(request)
    confirmed_now = request.action == "payment_completed" or (
        request.action == "booking_created" and not request.awaiting_payment
    )
    if confirmed_now:
        return EmailContent(
            f"New booking: {title}",
            "You have a new booking",
            [greeting, f"{attendee} has booked a place at {title}."],
            details,
        )
    was_secured = request.payment_status not in ("pending", "failed")
    if request.action == "booking_cancelled" and was_secured:
        if request.reason:
            details.append(("Reason", request.reason))
        return EmailContent(
            f"Booking cancelled: {title}",
            "A booking was cancelled",
            [greeting, f"{attendee} has cancelled their booking for {title}."],
            details,
        )
    return None
