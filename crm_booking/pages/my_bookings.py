"""/bookings : my bookings, upcoming and past, with cancel + refund."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, error_message, loading, success_message
from crm_booking.components.layout import page_layout
from crm_booking.state.my_bookings import MyBookingsState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = MyBookingsState


def payment_badge(item: Any) -> rx.Component:
    color = rx.match(item.payment_status, ("completed", "green"), ("failed", "red"),
                     ("refunded", "gray"), "amber")
    return rx.badge(item.payment_label, color_scheme=color, variant="soft",  # type: ignore[arg-type]
                    high_contrast=True)


def booking_card(item: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.heading(rx.link(item.event_title, href="/booking/" + item.reference,
                                   color="#1c2024"), as_="h3", size="4"),
                rx.text(item.when, size="2"),
                rx.text(item.place, size="2"),
                rx.hstack(
                    rx.text("Ref ", rx.el.strong(item.reference), size="2"),
                    rx.badge(item.status_label, variant="outline", high_contrast=True),
                    payment_badge(item),
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
                rx.button("Yes, cancel it", color_scheme="red", on_click=S.confirm_cancel,
                          loading=S.cancelling),
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
        success_message(S.result),
        error_message(S.error),
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
