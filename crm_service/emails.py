"""What each notification says, to whom, rendered as HTML plus a plain-text alternative."""

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo

from crm_service.calendar_invites import CalendarMethod, build_invite
from crm_service.payloads import AccountEmailRequest, NotifyRequest

CANCELLING_ACTIONS = frozenset(
    {"booking_cancelled", "event_cancelled", "hold_expired", "late_payment_refunded"}
)
# The emails that confirm a seat state the cancellation policy it was booked under.
CONFIRMING_ACTIONS = frozenset({"booking_created", "payment_completed"})
# Cancellations of a seat that had an invite (paid or free); a hold never had one.
INVITE_CANCELLING_ACTIONS = frozenset({"booking_cancelled", "event_cancelled"})
# Money given back while the booking stays as it was: no calendar change at all.
REFUNDING_ACTIONS = frozenset({"duplicate_payment_refunded", "pass_payment_refunded"})
# Emails that carry the attendee's ticket (a QR code of it).
TICKET_ACTIONS = frozenset({"booking_created", "payment_completed", "reminder"})
EN_DASH = "\u2013"  # between start and end times

# Reasons arrive as codes; people read words. Unknown codes read as their words, and free
# text (a person's own reason) is shown as given.
REASON_WORDS = {
    "user_cancelled": "You cancelled this booking",
    "event_cancelled": "The organiser cancelled the event",
    "hold_expired": "Payment was not completed in time",
    "late_payment": "The payment arrived after the reservation expired",
    "duplicate_payment": "A second payment was made for the same booking",
}
FACILITATOR_REASON_WORDS = {**REASON_WORDS, "user_cancelled": "The attendee cancelled"}
CHANGED_WORDS = {"time": "time", "location": "place", "link": "online link"}


@dataclass
class EmailContent:
    """Plain strings only; escaping happens once, when the HTML is rendered."""

    subject: str
    heading: str
    paragraphs: list[str]
    details: list[tuple[str, str]] = field(default_factory=list)
    link: str | None = None
    # Further links, as (label, url): e.g. the PDF receipt.
    links: list[tuple[str, str]] = field(default_factory=list)
    # The ticket code, drawn as an inline QR image (Content-ID below) above the details.
    ticket_code: str | None = None


TICKET_QR_CID = "ticket-qr@crm-booking"


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


def format_hold_end(hold_end: datetime, timezone_name: str) -> str:
    """'14:32 IST on Sat 14 Mar': when an unpaid hold lapses, in the event's zone."""
    local = hold_end.astimezone(ZoneInfo(timezone_name))
    return local.strftime("%H:%M %Z on %a %d %b")


def reason_in_words(reason: str, words: dict[str, str] = REASON_WORDS) -> str:
    if reason in words:
        return words[reason]
    if re.fullmatch(r"[a-z]+(_[a-z]+)+", reason):
        return reason.replace("_", " ").capitalize()
    return reason


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


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
    if content.ticket_code:
        _attach_ticket_qr(message, content.ticket_code)
    return message


def ticket_qr_png(code: str) -> bytes:
    """segno (pure Python, no dependencies) draws the QR code; PNG because mail clients
    (Gmail, Outlook) do not show SVG or data: images."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def _attach_ticket_qr(message: EmailMessage, code: str) -> None:
    """Inline image referenced by cid: from the HTML part (multipart/related)."""
    html_part = next(part for part in message.walk() if part.get_content_type() == "text/html")
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(ticket_qr_png(code), maintype="image", subtype="png",
                          cid=f"<{TICKET_QR_CID}>", filename="ticket-qr.png")


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
    if content.ticket_code:
        lines += [f"Ticket code: {content.ticket_code}"]
    if content.link:
        lines += ["", f"Join online: {content.link}"]
    lines += [f"{label}: {url}" for label, url in content.links]
    return "\n".join(lines).rstrip() + "\n"


def render_html(content: EmailContent) -> str:
    e = html.escape
    paragraphs = "".join(f"<p>{e(text)}</p>" for text in content.paragraphs)
    rows = "".join(
        f'<tr><th align="left">{e(label)}</th><td>{e(value)}</td></tr>' for label, value in content.details
    )
    link = f'<p><a href="{e(content.link, quote=True)}">Join online</a></p>' if content.link else ""
    link += "".join(f'<p><a href="{e(url, quote=True)}">{e(label)}</a></p>'
                    for label, url in content.links)
    ticket = (
        f'<p><img src="cid:{TICKET_QR_CID}" width="200" height="200" '
        f'alt="QR code of your ticket {e(content.ticket_code, quote=True)}"><br>'
        f"Show this at the door. Ticket code: <code>{e(content.ticket_code)}</code></p>"
        if content.ticket_code else ""
    )
    return (
        '<!DOCTYPE html><html><body style="font-family: sans-serif">'
        f"<h2>{e(content.heading)}</h2>{paragraphs}{ticket}"
        f'<table cellpadding="4">{rows}</table>{link}</body></html>'
    )


def _attendee_email(request: NotifyRequest, sequence: int, sender: str) -> OutgoingEmail:
    recipient = request.user.email
    message = build_message(sender, recipient, _attendee_content(request))
    method = calendar_method(request)
    if method is not None:
        invite_sequence = _invite_sequence(request, method, sequence)
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


def calendar_method(request: NotifyRequest) -> CalendarMethod | None:
    """An invite only for a seat that is the attendee's (paid, or free), an update of it when
    the event changes, and a cancellation only of an invite that was sent."""
    action = request.action
    if action == "payment_completed":
        return "REQUEST"
    if action in ("booking_created", "event_updated") and request.seat_secured:
        return "REQUEST"
    if action in INVITE_CANCELLING_ACTIONS and request.payment_status not in ("pending", "failed"):
        return "CANCEL"
    return None


def _invite_sequence(request: NotifyRequest, method: CalendarMethod, counted: int) -> int:
    """The Booking app's SEQUENCE when it sends one (it counts changes of the event), else the
    number of earlier notifications. A cancellation must outrank the invitation it replaces."""
    if request.ics_sequence is not None:
        return request.ics_sequence + 1 if method == "CANCEL" else request.ics_sequence
    return max(counted, 1) if method == "CANCEL" else counted


def _bare_address(sender: str) -> str:
    match = re.search(r"<([^>]+)>", sender)
    return match.group(1) if match else sender


def _pass_details(request: NotifyRequest) -> list[tuple[str, str]]:
    details = [("Class pass", request.event.title), ("Purchase", f"PASS{request.pass_purchase_id}")]
    if request.credits is not None:
        details.append(("Classes", str(request.credits)))
    if request.expires_at is not None:
        local = request.expires_at.astimezone(ZoneInfo(request.event.timezone))
        details.append(("Valid until", f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"))
    if request.event.facilitator_name:
        details.append(("Facilitator", request.event.facilitator_name))
    return details


def _event_details(request: NotifyRequest) -> list[tuple[str, str]]:
    if request.pass_purchase_id is not None:
        return _pass_details(request)
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


def _hold_open(request: NotifyRequest) -> bool:
    hold_end = request.hold_expires_at
    return hold_end is not None and hold_end > datetime.now(UTC)


def _hold_phrase(request: NotifyRequest) -> str:
    """'Reserved until 14:32 IST on Sat 14 Mar, awaiting payment' (the booking pages' words)."""
    assert request.hold_expires_at is not None
    return (f"Reserved until {format_hold_end(request.hold_expires_at, request.event.timezone)}, "
            "awaiting payment")


def _attendee_links(request: NotifyRequest) -> list[tuple[str, str]]:
    """Every email links to the booking; while an unpaid hold lasts, also to paying for it."""
    links = []
    if request.pay_url and request.awaiting_payment and _hold_open(request) and (
            request.action in ("booking_created", "payment_failed", "event_updated")):
        links.append(("Pay now", request.pay_url))
    if request.action == "payment_completed" and request.receipt_url:
        links.append(("Download your receipt (PDF)", request.receipt_url))
    if request.booking_url:
        links.append(("View your booking", request.booking_url))
    return links


def _change_details(request: NotifyRequest, details: list[tuple[str, str]]) -> None:
    previous, changed = request.previous, request.changed or []
    if previous is None:
        return
    if "time" in changed and previous.start_datetime is not None:
        details.append(("Previously",
                        format_event_time(previous.start_datetime, previous.end_datetime,
                                          request.event.timezone)))
    if "location" in changed:
        details.append(("Previous place", previous.location or "Online"))
def _offer_deadline(request: NotifyRequest) -> str:
    if request.offer_expires_at is None:
        return "the offer lapses"
    local = request.offer_expires_at.astimezone(ZoneInfo(request.event.timezone))
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def _attendee_content(request: NotifyRequest) -> EmailContent:
    name, title = request.user.name, request.event.title
    paid = format_money(request.amount, request.currency)
    details = _event_details(request)
    if request.reason:
        details.append(("Reason", reason_in_words(request.reason)))
    match request.action:
        case "booking_created" if request.awaiting_payment:
            subject, heading = f"Seat reserved: {title}", "Your seat is reserved"
            body = [
                f"Hi {name}, we are holding a seat for you at {title}.",
                "Please complete your payment to keep it; unpaid holds are released.",
            ]
            if request.hold_expires_at is not None:
                details.append(("Status", _hold_phrase(request)))
        case "booking_created":
            subject, heading = (
                f"Booking confirmed: {title}",
                "Your booking is confirmed",
            )
            body = [f"Hi {name}, your place at {title} is confirmed. See you there!"]
            if request.paid_with == "pass":
                details.append(("Paid with", "One class of your pass"))
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
            body = [f"Hi {name}, your payment for {title} failed and you have not been charged."]
            if _hold_open(request):
                body.append("Your seat is still held: you can pay now, until the time below.")
                details.append(("Status", _hold_phrase(request)))
            else:
                body.append("You can book again from the event page if seats are left.")
        case "event_updated":
            what = _joined([CHANGED_WORDS[fact] for fact in request.changed or ["time"]])
            subject, heading = f"New {what}: {title}", f"The {what} of your event has changed"
            body = [f"Hi {name}, the organiser has changed the {what} of {title}. "
                    "The details below are the new ones."]
            if calendar_method(request) == "REQUEST":
                body.append("The attached invitation updates the event in your calendar.")
            elif request.awaiting_payment and _hold_open(request):
                details.append(("Status", _hold_phrase(request)))
            _change_details(request, details)
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
        case "waitlist_offered":
            subject, heading = f"A seat is free for you: {title}", "A seat is yours if you want it"
            body = [
                f"Hi {name}, a seat has opened up at {title} and it is held for you.",
                f"Accept it before {_offer_deadline(request)}; after that it goes to the next "
                "person on the waitlist.",
            ]
        case "waitlist_offer_expired":
            subject, heading = f"Waitlist offer expired: {title}", "Your waitlist offer has expired"
            body = [
                f"Hi {name}, the seat held for you at {title} was not accepted in time, so it "
                "has gone to the next person on the waitlist.",
            ]
        case "duplicate_payment_refunded":
            subject, heading = (
                f"Duplicate payment refunded: {title}",
                "We refunded a second payment",
            )
            body = [
                f"Hi {name}, we received two payments for your booking at {title}.",
                "Your booking stays confirmed and paid; we have refunded the second payment.",
            ]
        case "pass_purchased":
            subject, heading = f"Class pass confirmed: {title}", "Your class pass is ready"
            body = [f"Hi {name}, thank you: your payment of {paid or 'your pass'} was received "
                    f"and your pass {title} is active.",
                    "Choose it when you book a class; each booking uses one class."]
        case "pass_payment_refunded":
            subject, heading = f"Payment refunded: {title}", "We refunded a payment"
            body = [f"Hi {name}, we received a payment for your class pass {title} that was not "
                    "needed (a second payment, or one for a purchase no longer open).",
                    "Your pass is unchanged; we have refunded that payment."]
        case "late_payment_refunded":
            subject, heading = (
                f"Payment refunded: {title}",
                "Your payment has been refunded",
            )
            body = [
                f"Hi {name}, your payment for {title} arrived after your reservation expired.",
                "The seat had already been released, so we have refunded your payment.",
            ]
        case "reminder":
            subject, heading, body = _reminder_words(request)
        case "event_message":
            topic = request.subject or "A message from the organiser"
            subject, heading = f"{title}: {topic}", topic
            body = [f"Hi {name}, {request.event.facilitator_name or 'the organiser'} wrote to "
                    f"everyone booked on {title}:", *_paragraphs(request.message)]
        case "waitlist_message":
            topic = request.subject or "A message from the organiser"
            subject, heading = f"{title}: {topic}", topic
            body = [f"Hi {name}, {request.event.facilitator_name or 'the organiser'} wrote to "
                    f"everyone on the waitlist for {title}:", *_paragraphs(request.message)]
    if request.action == "event_cancelled" and request.message:
        who = request.event.facilitator_name or "the organiser"
        body += [f"A message from {who}:", *_paragraphs(request.message)]
    if request.action in CONFIRMING_ACTIONS and request.refund_policy_text:
        body.append(f"Cancellation policy: {request.refund_policy_text}.")
    refund = (_refund_sentence(request)
              if request.action in CANCELLING_ACTIONS | REFUNDING_ACTIONS else None)
    if refund:
        body.append(refund)
    links = _attendee_links(request)
    if request.action == "waitlist_offered" and request.offer_url:
        links.append(("Accept your seat", request.offer_url))
    if request.action == "reminder" and request.map_url and request.event.location:
        links.append(("Open the address in a map", request.map_url))
    ticket = request.ticket_code if request.action in TICKET_ACTIONS else None
    if request.action == "booking_created" and request.awaiting_payment:
        ticket = None  # no ticket for an unpaid hold
    return EmailContent(subject, heading, body, details, request.event.virtual_link, links,
                        ticket_code=ticket)


def _paragraphs(text: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n", text or "") if part.strip()]


def _reminder_words(request: NotifyRequest) -> tuple[str, str, list[str]]:
    name, title = request.user.name, request.event.title
    when = "tomorrow" if request.reminder == "24h" else "in about an hour"
    subject = f"Reminder: {title} starts {'in 24 hours' if request.reminder == '24h' else 'in 1 hour'}"
    body = [f"Hi {name}, a reminder that {title} starts {when}."]
    if request.event.virtual_link:
        body.append("Join online with the link below.")
    elif request.event.location:
        body.append(f"The address is {request.event.location}.")
    return subject, "See you soon", body


def _facilitator_content(request: NotifyRequest) -> EmailContent | None:
    """New booking once it is secured (paid, or free), and cancellations of such bookings."""
    attendee = f"{request.user.name} ({request.user.email})"
    title = request.event.title
    greeting = f"Hi {request.event.facilitator_name or 'there'},"
    details = _event_details(request)
    links = [("See who is coming", request.attendees_url)] if request.attendees_url else []
    confirmed_now = request.action == "payment_completed" or (
        request.action == "booking_created" and not request.awaiting_payment
    )
    if confirmed_now:
        return EmailContent(
            f"New booking: {title}",
            "You have a new booking",
            [greeting, f"{attendee} has booked a place at {title}."],
            details, links=links,
        )
    was_secured = request.payment_status not in ("pending", "failed")
    if request.action == "booking_cancelled" and was_secured:
        if request.reason:
            details.append(("Reason", reason_in_words(request.reason, FACILITATOR_REASON_WORDS)))
        return EmailContent(
            f"Booking cancelled: {title}",
            "A booking was cancelled",
            [greeting, f"{attendee} has cancelled their booking for {title}."],
            details, links=links,
        )
    return None


# --- account emails (issue 14) -------------------------------------------------------------------


def account_email(sender: str, request: AccountEmailRequest) -> EmailMessage:
    """Verification and password-reset links: one clear sentence and the link."""
    expires = f" The link works once and expires in {request.expires_in}." if request.expires_in else ""
    ignore = "If you did not ask for this, you can ignore this email."
    subject, heading, paragraphs, label = {
        "verify_email": ("Confirm your email address", f"Hello {request.name},",
                         [f"Please confirm that this is your email address.{expires}", ignore],
                         "Confirm my email address"),
        "reset_password": ("Reset your password", f"Hello {request.name},",
                           [f"Someone (hopefully you) asked to reset your password.{expires}", ignore],
                           "Choose a new password"),
        "password_removed": ("Your password was removed", f"Hello {request.name},",
                             ["You signed in with Google. The password set for this address before "
                              "it was confirmed was removed, and every earlier sign-in ended.",
                              "To use a password again, choose a new one with this link."],
                             "Choose a password"),
    }[request.kind]
    return build_message(sender, request.to_email,
                         EmailContent(subject=subject, heading=heading, paragraphs=paragraphs,
                                      links=[(label, request.link)]))
