"""Labelled form fields with their validation message beside them."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _error(field_id: str, error: rx.Var[str] | str) -> rx.Component:
    return rx.cond(
        error != "",
        rx.text(error, id=f"{field_id}-error", color="#ce2c31", size="2", weight="medium"),
    )


def text_field(label: str, name: str, error: rx.Var[str] | str = "", *, field_id: str = "",
               hint: str = "", **input_props: Any) -> rx.Component:
    field_id = field_id or f"field-{name}"
    return rx.box(
        rx.el.label(label, html_for=field_id, style={"font_weight": "500", "display": "block",
                                                     "margin_bottom": "0.25rem"}),
        rx.input(id=field_id, name=name, aria_describedby=f"{field_id}-error",
                 aria_invalid=rx.cond(error != "", "true", "false"), size="3", **input_props),
        rx.text(hint, size="1", color="#60646c") if hint else rx.fragment(),
        _error(field_id, error),
        width="100%",
    )


def text_area(label: str, name: str, error: rx.Var[str] | str = "", **props: Any) -> rx.Component:
    field_id = f"field-{name}"
    return rx.box(
        rx.el.label(label, html_for=field_id, style={"font_weight": "500", "display": "block",
                                                     "margin_bottom": "0.25rem"}),
        rx.text_area(id=field_id, name=name, aria_describedby=f"{field_id}-error", rows="4",
                     aria_invalid=rx.cond(error != "", "true", "false"), **props),
        _error(field_id, error),
        width="100%",
    )


def select_field(label: str, name: str, options: list[tuple[str, str]] | rx.Var,
                 error: rx.Var[str] | str = "", **props: Any) -> rx.Component:
    """A native <select>: keyboard- and screen-reader-friendly everywhere, and tiny."""
    field_id = props.pop("field_id", f"field-{name}")
    if isinstance(options, list):
        option_nodes = [rx.el.option(text, value=value) for value, text in options]
    else:
        option_nodes = [rx.foreach(options, lambda o: rx.el.option(o[1], value=o[0]))]
    return rx.box(
        rx.el.label(label, html_for=field_id, style={"font_weight": "500", "display": "block",
                                                     "margin_bottom": "0.25rem"}),
        rx.el.select(*option_nodes, id=field_id, name=name, class_name="native-select",
                     aria_describedby=f"{field_id}-error",
                     aria_invalid=rx.cond(error != "", "true", "false"), **props),
        _error(field_id, error),
        width="100%",
    )
