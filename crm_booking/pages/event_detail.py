"""/events/[event_id] : description, facilitator, schedule and the Book button."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.event_card import cover
from crm_booking.components.feedback import empty, error_message, loading
from crm_booking.components.layout import page_layout
from crm_booking.state.event_detail import EventDetailState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = EventDetailState


def _fact(label: str, value: rx.Var[str] | rx.Component, *more: rx.Component) -> rx.Component:
    return rx.box(
        rx.el.dt(label, style={"font_weight": "600", "color": "#3b3f45", "font_size": "0.9rem"}),
        rx.el.dd(value, *more, style={"margin": "0 0 0.75rem 0"}),
    )


def _your_time() -> rx.Component:
    return rx.cond(S.event.viewer_when != "",
                   rx.el.div("Your time: ", S.event.viewer_when, class_name="viewer-time",
                             style={"color": "#3b3f45"}))


def _map_link() -> rx.Component:
    """Opens the place in a maps app (a new tab on desktop)."""
    return rx.cond(
        S.event.map_url != "",
        rx.el.div(rx.el.a("Open in Google Maps", href=S.event.map_url, target="_blank",
                          rel="noopener noreferrer", id="map-link",
                          style={"color": "#0b5d55", "font_weight": "500"})),
    )


def _join_link() -> rx.Component:
    """Shown only to the facilitator and to people whose seat is paid or free; everyone else's
    state never holds the link."""
    return rx.cond(
        S.virtual_link != "",
        rx.el.div(rx.el.a("Join online", href=S.virtual_link, target="_blank",
                          rel="noopener noreferrer", id="join-link",
                          style={"color": "#0b5d55", "font_weight": "500"})),
    )


def _waitlist_panel() -> rx.Component:
    """Where "Book" was on a full event: join, your place in the queue, or your offer."""
    return rx.box(
        rx.cond(
            S.waitlist_status == "offered",
            rx.vstack(
                rx.text("A seat is held for you until ", rx.el.strong(S.offer_until), ".",
                        id="waitlist-offer", role="status"),
                rx.button(rx.cond(S.waitlist_busy, "Accepting ...", "Accept seat"),
                          on_click=S.accept_offer, loading=S.waitlist_busy, size="4",
                          width="100%", high_contrast=True),
                rx.button("Give up my place", on_click=S.leave_waitlist, variant="outline",
                          color_scheme="gray", high_contrast=True, width="100%"),
                spacing="2", width="100%",
            ),
        ),
        rx.cond(
            S.waitlist_status == "waiting",
            rx.vstack(
                rx.text("You are number ", rx.el.strong(S.waitlist_position.to_string()),
                        " on the waitlist. We email you when a seat is free for you.",
                        id="waitlist-position", role="status"),
                rx.button("Leave waitlist", on_click=S.leave_waitlist, variant="outline",
                          color_scheme="gray", high_contrast=True, loading=S.waitlist_busy,
                          width="100%"),
                spacing="2", width="100%",
            ),
        ),
        rx.cond(
            S.can_join_waitlist,
            rx.button("Join waitlist", on_click=S.join_waitlist, loading=S.waitlist_busy,
                      size="4", width="100%", high_contrast=True),
        ),
        rx.cond(S.waitlist_message != "",
                rx.text(S.waitlist_message, role="status", size="2")),
        width="100%",
    )


def _pass_option(option: Any) -> rx.Component:
    return rx.button(
        "Book with " + option.label, on_click=S.book_with_pass(option.id),
        loading=S.booking_in_progress, variant="outline", size="3", width="100%",
        high_contrast=True, style={"white_space": "normal", "height": "auto",
                                   "padding_block": "0.5rem"},
    )


def _pass_options() -> rx.Component:
    """Issue 17: the viewer's passes that can pay for this event, one credit each."""
    return rx.cond(
        S.bookable & (S.pass_options.length() > 0),
        rx.vstack(
            rx.text("Or use one class of your pass (no payment):", size="2", weight="medium"),
            rx.foreach(S.pass_options, _pass_option),
            spacing="2", width="100%", id="pass-options",
        ),
    )


def _book_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(S.event.price, size="7", weight="bold"),
            rx.cond(S.event.seats != "",
                    rx.text(S.event.seats, weight="bold",
                            color=rx.cond(S.event.full, "#ce2c31", "#0b5d55"))),
            rx.cond(
                S.my_booking != "",
                rx.vstack(
                    rx.text("You're booked.", weight="bold", color="#0b5d55"),
                    rx.link("View your booking", href="/booking/" + S.my_booking,
                            id="my-booking-link", weight="medium"),
                    spacing="1", align="start",
                ),
            ),
            rx.cond(
                S.bookable,
                rx.button(
                    rx.cond(S.booking_in_progress, "Booking ...", "Book"),
                    on_click=S.book, loading=S.booking_in_progress, size="4", width="100%",
                    high_contrast=True,
                ),
                rx.cond(S.closed_reason != "", rx.text(S.closed_reason, color="#3b3f45")),
            ),
            _pass_options(),
            _waitlist_panel(),
            rx.cond(
                ~SessionState.signed_in & S.bookable,
                rx.text("You will be asked to sign in first; you come straight back here.",
                        size="2", color="#3b3f45"),
            ),
            rx.cond(
                S.refund_policy_text != "",
                rx.text(rx.el.strong("Cancellation policy: "), S.refund_policy_text, ".",
                        id="refund-policy", size="2", color="#3b3f45"),
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


def _series_date(date: Any) -> rx.Component:
    return rx.el.li(rx.cond(
        date.current,
        rx.el.span(date.label, " (this session)", aria_current="page", style={"font_weight": "600"}),
        rx.link(date.label, href="/events/" + date.id.to_string(), color="#0b5d55"),
    ))


def _series_dates() -> rx.Component:
    """A session of a series: its other upcoming dates, each a link to book that one."""
    return rx.cond(
        S.series_dates.length() > 0,
        rx.el.nav(
            rx.heading("Dates of this series", as_="h2", size="4", margin_y="0.5rem"),
            rx.text(S.series_text, color="#3b3f45", size="2", class_name="series-text"),
            rx.el.ul(rx.foreach(S.series_dates, _series_date),
                     style={"padding_left": "1.25rem", "margin": "0.5rem 0 1rem 0"}),
            aria_label="Dates of this series", id="series-dates",
        ),
    )


def _details() -> rx.Component:
    return rx.grid(
        rx.box(
            rx.box(cover(S.event, card=False), margin_bottom="1rem"),
            rx.badge(S.event.type_label, variant="soft", color_scheme="teal", high_contrast=True,
                     margin_bottom="0.75rem"),
            rx.el.dl(
                _fact("When", S.event.when, _your_time()),
                _fact("Where", S.event.place, _map_link(), _join_link()),
                _fact("Facilitator", S.event.facilitator),
            ),
            _series_dates(),
            rx.heading("About this event", as_="h2", size="4", margin_y="0.5rem"),
            rx.text(S.event.description, white_space="pre-wrap"),
        ),
        _book_panel(),
        columns=rx.breakpoints(initial="1", md="2fr 1fr"), spacing="6", width="100%",
        align_items="start",
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
# The browser tab and shared links name the event itself, not "Event".
PAGE_TITLE: Any = rx.cond(S.found, rx.cond(S.loading, "Event", S.event.title), "Event not found")
