"""An event as a card in the browse list."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _detail(icon: str, text: Any) -> rx.Component:
    return rx.hstack(rx.icon(icon, size=16, aria_hidden="true", color="#60646c"),
                     rx.text(text, size="2"), spacing="2", align="start")


def viewer_time(event: Any) -> rx.Component:
    """The time in the viewer's own zone, for online events, when it differs."""
    return rx.cond(
        event.viewer_when != "",
        rx.hstack(rx.icon("globe", size=16, aria_hidden="true", color="#60646c"),
                  rx.text("Your time: ", event.viewer_when, size="2", class_name="viewer-time"),
                  spacing="2", align="start"),
    )


def cover(event: Any, *, card: bool) -> rx.Component:
    return rx.cond(
        event.cover_url != "",
        rx.image(src=event.card_cover_url if card else event.cover_url, alt=event.cover_alt,
                 width="100%", class_name="event-cover",
                 style={"aspect_ratio": "1200 / 630", "object_fit": "cover",
                        "border_radius": "6px", "display": "block"},
                 loading="lazy" if card else "eager"),
    )


def event_card(event: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            cover(event, card=True),
            rx.hstack(
                rx.badge(event.type_label, variant="soft", color_scheme="teal", high_contrast=True),
                rx.spacer(),
                rx.text(event.price, weight="bold", size="4"),
                width="100%", align="center",
            ),
            rx.heading(
                rx.link(event.title, href="/events/" + event.id.to_string(), color="#1c2024"),
                as_="h2", size="4",
            ),
            rx.cond(event.series_text != "",
                    rx.box(_detail("repeat", event.series_text), class_name="series-text"),
                    _detail("calendar", event.when)),
            viewer_time(event),
            _detail("map_pin", event.place),
            _detail("user", event.facilitator),
            rx.text(event.seats, size="2", weight="bold",
                    color=rx.cond(event.full, "#ce2c31", "#0b5d55")),
            spacing="2", align="start", width="100%",
        ),
        width="100%",
    )
