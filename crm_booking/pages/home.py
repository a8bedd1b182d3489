"""Home: upcoming events."""

from __future__ import annotations

import reflex as rx

from crm_booking.state.home import HomeState

__all__ = ["HomeState", "page"]


def event_card(event: rx.Var) -> rx.Component:
    return rx.card(
        rx.heading(event["title"], size="4", as_="h2"),
        rx.text(event["when"]),
        rx.text(event["seats"]),
    )


def page() -> rx.Component:
    return rx.container(
        rx.heading("Upcoming events", size="7", as_="h1"),
        rx.foreach(HomeState.events, event_card),
        padding_y="2em",
    )
