"""/booking/[reference] : booking reference, status, payment status, and pay/retry."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import WRAPPING, empty, link_button, loading
from crm_booking.components.layout import page_layout
from crm_booking.state.confirmation import ConfirmationState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = ConfirmationState


def _row(label: str, value: rx.Component | rx.Var[str]) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(label), rx.table.cell(value))


def _download_link(label: rx.Var[str] | str, href: rx.Var[str], **props: Any) -> rx.Component:
    """A link out of the single-page app (the file comes from the API). The address is
    absolute: React Router would put a path under the UI's /app prefix."""
    return rx.el.a(label, href=href, style={"color": "#0b5d55", "font_weight": "500"}, **props)


def _add_to_calendar() -> rx.Component:
    return rx.cond(
        S.booking.calendar_ics_url != "",
        rx.box(
            rx.heading("Add to calendar", as_="h2", size="3", margin_bottom="0.5rem"),
            rx.hstack(
                _download_link("Download .ics (Apple, Outlook)", S.booking.calendar_ics_url,
                               download=S.booking.reference + ".ics", id="calendar-ics"),
                _download_link("Google Calendar", S.booking.google_calendar_url,
                               target="_blank", rel="noopener noreferrer", id="calendar-google"),
                spacing="4", wrap="wrap",
            ),
            width="100%",
        ),
    )


def _receipts() -> rx.Component:
    return rx.cond(
        S.receipts.length() > 0,
        rx.box(
            rx.heading("Receipts", as_="h2", size="3", margin_bottom="0.5rem"),
            rx.el.ul(
                rx.foreach(S.receipts, lambda r: rx.el.li(
                    _download_link(r["label"], r["url"], download=r["number"] + ".pdf"))),
                style={"margin": "0", "padding_left": "1.25rem"},
            ),
            width="100%", id="receipts",
        ),
    )


def _ticket() -> rx.Component:
    """The QR code the facilitator scans at the door; the code below it can be typed too."""
    return rx.cond(
        S.booking.ticket_code != "",
        rx.box(
            rx.heading("Your ticket", as_="h2", size="3", margin_bottom="0.5rem"),
            rx.image(src=S.booking.ticket_qr, alt="QR code of ticket " + S.booking.ticket_code,
                     width="12rem", height="12rem", id="ticket-qr",
                     style={"image_rendering": "pixelated", "background": "white"}),
            rx.text("Show this at the door. Ticket code: ",
                    rx.code(S.booking.ticket_code, id="ticket-code"), size="2"),
            rx.cond(S.booking.checked_in,
                    rx.badge("Checked in", color_scheme="green", variant="soft",
                             high_contrast=True)),
            width="100%", id="ticket",
        ),
    )


def _summary() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.cond(
                S.booking.secured,
                rx.callout("You're booked! A confirmation email is on its way.",
                           icon="circle_check", color_scheme="green", role="status", high_contrast=True),
            ),
            rx.cond(
                S.explanation != "",
                rx.callout(S.explanation, icon="info", color_scheme="amber", role="status",
                           high_contrast=True),
            ),
            rx.cond(
                S.pay_url != "",
                link_button(S.pay_label, S.pay_url, id="pay-link"),
            ),
            rx.table.root(
                rx.table.body(
                    _row("Booking reference", rx.text(S.booking.reference, weight="bold",
                                                      size="5", id="booking-reference")),
                    _row("Event", rx.link(S.booking.event_title,
                                          href="/events/" + S.booking.event_id.to_string())),
                    _row("When", S.booking.when),
                    _row("Where", rx.fragment(
                        rx.text(S.booking.place),
                        rx.cond(S.booking.join_link != "",
                                rx.el.a("Join online", href=S.booking.join_link, target="_blank",
                                        rel="noopener noreferrer", id="join-link",
                                        style={"color": "#0b5d55", "font_weight": "500"})))),
                    _row("Amount", S.booking.amount),
                    _row("Status", rx.badge(S.booking.status_label, color_scheme=S.booking.tone,
                                            variant="soft", high_contrast=True, size="2",
                                            id="booking-status", style=WRAPPING)),
                    _row("Payment", rx.badge(S.booking.payment_label,
                                             color_scheme=S.booking.tone,
                                             variant="soft", high_contrast=True, size="2",
                                             id="payment-status")),
                ),
                variant="ghost", width="100%",
            ),
            _ticket(),
            _add_to_calendar(),
            _receipts(),
            rx.hstack(
                rx.link("All my bookings", href="/bookings"),
                rx.button("Refresh status", on_click=S.load, variant="outline", size="2"),
                spacing="4", align="center", wrap="wrap",
            ),
            spacing="4", align="start", width="100%",
        ),
        max_width="40rem", width="100%",
    )


def page() -> rx.Component:
    return page_layout(
        "Your booking",
        rx.cond(
            S.loading,
            loading("Loading your booking ..."),
            rx.cond(S.found, _summary(),
                    empty("We could not find this booking in your account.",
                          rx.link("See my bookings", href="/bookings"))),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
