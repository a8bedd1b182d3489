"""Loading, empty, error and success blocks, all announced to screen readers."""

from __future__ import annotations

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


def error_message(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", high_contrast=True,
                   margin_y="0.75rem"),
    )


def success_message(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle_check", color_scheme="green", role="status", high_contrast=True,
                   margin_y="0.75rem"),
    )


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
