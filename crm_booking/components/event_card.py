"""An event as a card in the browse list."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _detail(icon: str, text: Any) -> rx.Component:
    return rx.hstack(rx.icon(icon, size=16, aria_hidden="true", color="#60646c"),
                     rx.text(text, size="2"), spacing="2", align="start")


def event_card(event: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
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
            _detail("calendar", event.when),
            _detail("map_pin", event.place),
            _detail("user", event.facilitator),
            rx.text(event.seats, size="2", weight="bold",
                    color=rx.cond(event.full, "#ce2c31", "#0b5d55")),
            spacing="2", align="start", width="100%",
        ),
        width="100%",
    )
