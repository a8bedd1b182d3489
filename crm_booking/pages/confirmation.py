"""/booking/[reference] : booking reference, status, payment status, and pay/retry."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, link_button, loading
from crm_booking.components.layout import page_layout
from crm_booking.state.confirmation import ConfirmationState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = ConfirmationState


def _row(label: str, value: rx.Component | rx.Var[str]) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(label), rx.table.cell(value))


def _payment_color() -> rx.Var[str]:
    return rx.match(S.booking.payment_status, ("completed", "green"), ("failed", "red"),
                    ("refunded", "gray"), "amber")


def _summary() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.cond(
                S.booking.payment_status == "completed",
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
                    _row("Where", S.booking.place),
                    _row("Amount", S.booking.amount),
                    _row("Booking status", rx.badge(S.booking.status_label, variant="soft",
                                                    high_contrast=True, size="2")),
                    _row("Payment", rx.badge(S.booking.payment_label,
                                             color_scheme=_payment_color(),  # type: ignore[arg-type]
                                             variant="soft", high_contrast=True, size="2",
                                             id="payment-status")),
                ),
                variant="ghost", width="100%",
            ),
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
