"""/bookings : my bookings, upcoming and past, with cancel + refund."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import WRAPPING, empty, error_message, loading, success_message
from crm_booking.components.layout import page_layout
from crm_booking.state.my_bookings import MyBookingsState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = MyBookingsState


def status_badge(item: Any) -> rx.Component:
    """One badge that says what the booking is ("Reserved until ..., awaiting payment",
    "Paid", "Free", "Expired, not paid"); the payment one only when it adds something."""
    return rx.fragment(
        rx.badge(item.status_label, color_scheme=item.tone, variant="soft", high_contrast=True,
                 class_name="booking-status", style=WRAPPING),
        rx.cond((item.status_label == "Cancelled") | (item.status_label == "Attended"),
                rx.badge(item.payment_label, variant="outline", high_contrast=True,
                         color_scheme="gray")),
    )


def booking_card(item: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.heading(rx.link(item.event_title, href="/booking/" + item.reference,
                                   color="#1c2024"), as_="h3", size="4"),
                rx.text(item.when, size="2"),
                rx.text(item.place, size="2"),
                rx.cond(item.join_link != "",
                        rx.el.a("Join online", href=item.join_link, target="_blank",
                                rel="noopener noreferrer",
                                style={"color": "#0b5d55", "font_weight": "500",
                                       "font_size": "0.9rem"})),
                rx.hstack(
                    rx.text("Ref ", rx.el.strong(item.reference), size="2"),
                    status_badge(item),
                    rx.text(item.amount, size="2", weight="bold"),
                    spacing="2", wrap="wrap", align="center",
                ),
                spacing="1", align="start",
            ),
            rx.hstack(
                rx.cond(item.needs_payment,
                        rx.link("Pay now", href="/booking/" + item.reference, weight="bold")),
                rx.cond(item.can_cancel,
                        rx.button("Cancel booking", variant="outline", color_scheme="red",
                                  on_click=S.ask_cancel(item.id),
                                  aria_label="Cancel booking " + item.reference)),
                spacing="3", align="center",
            ),
            justify="between", gap="3", wrap="wrap", align="center",
        ),
        width="100%",
    )


def cancel_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel booking " + S.cancel_reference + "?"),
            rx.alert_dialog.description(S.cancel_question, id="cancel-quote"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep my booking", variant="soft",
                                                 color_scheme="gray", high_contrast=True)),
                rx.button("Yes, cancel it", color_scheme="red", high_contrast=True,
                          on_click=S.confirm_cancel, loading=S.cancelling, disabled=S.cancelling),
                spacing="3", justify="end", margin_top="1rem", wrap="wrap",
            ),
        ),
        open=S.dialog_open, on_open_change=S.set_dialog_open,
    )


def section(title: str, items: Any, none: str) -> rx.Component:
    return rx.box(
        rx.heading(title, as_="h2", size="5", margin_y="1rem"),
        rx.cond(items.length() > 0,
                rx.vstack(rx.foreach(items, booking_card), spacing="3", width="100%"),
                empty(none, rx.link("Browse events", href="/"))),
    )


def page() -> rx.Component:
    return page_layout(
        "My bookings",
        success_message(S.result, on_dismiss=S.dismiss_result),
        error_message(S.error, on_dismiss=S.dismiss_error),
        rx.cond(
            S.loading,
            loading("Loading your bookings ..."),
            rx.fragment(
                section("Upcoming", S.upcoming, "You have no upcoming bookings."),
                section("Past and cancelled", S.past, "No past or cancelled bookings yet."),
            ),
        ),
        cancel_dialog(),
    )


ON_LOAD = [SessionState.load, S.load]
