"""/events/[event_id] : description, facilitator, schedule and the Book button."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, error_message, loading
from crm_booking.components.layout import page_layout
from crm_booking.state.event_detail import EventDetailState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = EventDetailState


def _fact(label: str, value: rx.Var[str]) -> rx.Component:
    return rx.box(
        rx.el.dt(label, style={"font_weight": "600", "color": "#3b3f45", "font_size": "0.9rem"}),
        rx.el.dd(value, style={"margin": "0 0 0.75rem 0"}),
    )


def _book_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(S.event.price, size="7", weight="bold"),
            rx.text(S.event.seats, weight="bold",
                    color=rx.cond(S.event.full, "#ce2c31", "#0b5d55")),
            rx.cond(
                S.bookable,
                rx.button(
                    rx.cond(S.booking_in_progress, "Booking ...", "Book"),
                    on_click=S.book, loading=S.booking_in_progress, size="4", width="100%",
                    high_contrast=True,
                ),
                rx.text(S.closed_reason, color="#3b3f45"),
            ),
            rx.cond(
                ~SessionState.signed_in & S.bookable,
                rx.text("You will be asked to sign in first; you come straight back here.",
                        size="2", color="#3b3f45"),
            ),
            error_message(S.error),
            rx.cond(
                S.error.contains("already have a booking"),
                rx.link("See my bookings", href="/bookings"),
            ),
            spacing="3", align="start", width="100%",
        ),
        width="100%",
    )


def _details() -> rx.Component:
    return rx.grid(
        rx.box(
            rx.badge(S.event.type_label, variant="soft", color_scheme="teal", high_contrast=True,
                     margin_bottom="0.75rem"),
            rx.el.dl(
                _fact("When", S.event.when),
                _fact("Where", S.event.place),
                _fact("Facilitator", S.event.facilitator),
            ),
            rx.heading("About this event", as_="h2", size="4", margin_y="0.5rem"),
            rx.text(S.event.description, white_space="pre-wrap"),
        ),
        _book_panel(),
        columns=rx.breakpoints(initial="1", md="2fr 1fr"), spacing="6", width="100%",
    )


def page() -> rx.Component:
    return page_layout(
        rx.cond(S.found, rx.cond(S.loading, "Event", S.event.title), "Event not found"),
        rx.cond(
            S.loading,
            loading("Loading the event ..."),
            rx.cond(S.found, _details(),
                    empty("This event does not exist or was removed.",
                          rx.link("Browse upcoming events", href="/"))),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
