"""Loading, empty, error and success blocks, all announced to screen readers."""

from __future__ import annotations

from typing import Any

import reflex as rx


def loading(label: str = "Loading ...") -> rx.Component:
    return rx.hstack(rx.spinner(size="2"), rx.text(label), role="status", align="center",
                     spacing="2", padding_y="1rem")


def empty(message: str | rx.Var, *actions: rx.Component) -> rx.Component:
    return rx.box(
        rx.text(message, size="3", color="#3b3f45"),
        rx.hstack(*actions, margin_top="0.75rem") if actions else rx.fragment(),
        padding="1.5rem", border="1px dashed #b9bbc6", border_radius="8px",
    )


# A badge holding a sentence ("Reserved until ..., awaiting payment") wraps on a phone
# instead of pushing its table wider than the screen.
WRAPPING = {"white_space": "normal", "height": "auto", "text_align": "left"}


def _banner(message: rx.Var[str], icon: str, color: str, role: str,
            on_dismiss: Any | None) -> rx.Component:
    room = {"padding_right": "3rem"} if on_dismiss is not None else {}  # for the button
    callout = rx.callout(message, icon=icon, color_scheme=color, role=role,  # type: ignore[arg-type]
                         high_contrast=True, margin_y="0.75rem", **room)
    if on_dismiss is None:
        return callout
    return rx.box(
        callout,
        rx.icon_button(rx.icon("x", size=18, aria_hidden="true"), on_click=on_dismiss,
                       aria_label="Dismiss message", variant="ghost", size="2",
                       color_scheme=color, high_contrast=True,  # type: ignore[arg-type]
                       position="absolute", top="1.1rem", right="0.75rem"),
        position="relative", width="100%",
    )


def error_message(message: rx.Var[str], on_dismiss: Any | None = None) -> rx.Component:
    """A red alert; with `on_dismiss`, a button to close it (it is cleared in the state, so it
    does not come back)."""
    return rx.cond(message != "", _banner(message, "triangle_alert", "red", "alert", on_dismiss))


def success_message(message: rx.Var[str], on_dismiss: Any | None = None) -> rx.Component:
    return rx.cond(message != "", _banner(message, "circle_check", "green", "status", on_dismiss))


def status_badge(label: rx.Var[str], color: rx.Var[str]) -> rx.Component:
    return rx.badge(label, color_scheme=color, variant="soft", high_contrast=True, size="2")  # type: ignore[arg-type]


def link_button(label: rx.Var[str] | str, href: rx.Var[str] | str, **props: object) -> rx.Component:
    """A full-page link that looks like the primary button (for pages outside the UI)."""
    return rx.el.a(
        label, href=href,
        style={"display": "inline-block", "background": "#0b5d55", "color": "#ffffff",
               "padding": "0.6rem 1.2rem", "border_radius": "6px", "font_weight": "600",
               "text_decoration": "none"},
        **props,
    )
