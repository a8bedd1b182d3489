"""/ : upcoming events with filters."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.event_card import event_card
from crm_booking.components.feedback import empty, error_message, loading
from crm_booking.components.fields import select_field
from crm_booking.components.layout import page_layout
from crm_booking.state.home import HomeState as _HomeState

TYPE_OPTIONS = [("", "All types"), ("session", "Sessions"), ("workshop", "Workshops"),
                ("retreat", "Retreats")]

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
HomeState: Any = _HomeState


def search_box() -> rx.Component:
    """Keywords are sent on Enter or with the button, not on every key press."""
    return rx.el.form(
        rx.el.label("Search events", html_for="field-q",
                    style={"font_weight": "500", "display": "block", "margin_bottom": "0.25rem"}),
        rx.hstack(
            rx.input(id="field-q", name="q", type="search", default_value=HomeState.filter_q,
                     key=HomeState.filter_q, placeholder="Yoga, breathwork, a place or a teacher",
                     size="3", width="100%", max_length=100, auto_complete="off"),
            rx.button(rx.icon("search", aria_hidden="true"), "Search", type="submit", size="3",
                      high_contrast=True),
            spacing="2", width="100%",
        ),
        role="search", aria_label="Search events", on_submit=HomeState.search,
        reset_on_submit=False, style={"margin_bottom": "1rem"},
    )


def filters() -> rx.Component:
    return rx.el.form(
        rx.grid(
            select_field("Type", "type", TYPE_OPTIONS, value=HomeState.filter_type,
                         on_change=HomeState.set_type),
            rx.box(
                rx.el.label("Facilitator", html_for="field-facilitator",
                            style={"font_weight": "500", "display": "block",
                                   "margin_bottom": "0.25rem"}),
                rx.el.select(
                    rx.el.option("Anyone", value=""),
                    rx.foreach(HomeState.facilitators,
                               lambda f: rx.el.option(f[1], value=f[0])),
                    id="field-facilitator", name="facilitator", class_name="native-select",
                    value=HomeState.filter_facilitator, on_change=HomeState.set_facilitator,
                ),
            ),
            rx.box(
                rx.el.label("From date", html_for="field-date",
                            style={"font_weight": "500", "display": "block",
                                   "margin_bottom": "0.25rem"}),
                rx.input(type="date", id="field-date", name="date", value=HomeState.filter_date,
                         on_change=HomeState.set_date, size="3"),
            ),
            rx.box(
                rx.button("Clear filters", type="button", variant="outline", size="3",
                          on_click=HomeState.clear_filters, width="100%"),
                align_self="end",
            ),
            columns=rx.breakpoints(initial="1", sm="2", md="4"),
            spacing="3", width="100%",
        ),
        aria_label="Filter events", on_submit=rx.prevent_default,
        style={"margin_bottom": "1.5rem"},
    )


def results() -> rx.Component:
    return rx.cond(
        HomeState.loading,
        loading("Loading events ..."),
        rx.cond(
            HomeState.events.length() > 0,
            rx.grid(rx.foreach(HomeState.events, event_card),
                    columns=rx.breakpoints(initial="1", sm="2", lg="3"), spacing="4",
                    width="100%"),
            empty(rx.cond(HomeState.filter_q != "",
                          "No upcoming events match “" + HomeState.filter_q + "” with these filters.",
                          "No upcoming events match these filters."),
                  rx.button("Show all events", on_click=HomeState.clear_filters,
                            variant="soft", high_contrast=True)),
        ),
    )


def page() -> rx.Component:
    return page_layout(
        "Find a session",
        rx.text("Yoga, breathwork, sound baths and retreats. Times are shown in each event's "
                "own timezone; online events also in yours.", color="#3b3f45", margin_bottom="1rem"),
        search_box(),
        filters(),
        error_message(HomeState.error),
        rx.heading("Upcoming events", as_="h2", size="5", margin_bottom="0.75rem"),
        results(),
    )


ON_LOAD = [HomeState.load]
