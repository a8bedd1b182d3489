"""/dashboard/events/[event_id]/check-in : scan or type tickets at the door (phone first)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, error_message, loading
from crm_booking.components.layout import page_layout
from crm_booking.components.ticket_scanner import ticket_scanner
from crm_booking.state.checkin import CheckInState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = CheckInState


def _result() -> rx.Component:
    """The answer to the last scan, announced (alert for anything that needs attention)."""
    color = rx.match(S.result_kind, ("success", "green"), ("warning", "amber"), "red")
    icon = rx.match(S.result_kind, ("success", "circle_check"), "triangle_alert")
    return rx.cond(
        S.result_text != "",
        rx.callout.root(
            rx.callout.icon(rx.icon(icon)),  # type: ignore[arg-type]
            rx.callout.text(S.result_text, weight="bold", size="3", id="checkin-result"),
            rx.cond(
                S.undo_booking_id > 0,
                rx.button("Undo", on_click=S.undo(S.undo_booking_id), variant="outline",
                          size="2", high_contrast=True, id="undo-last"),
            ),
            color_scheme=color,  # type: ignore[arg-type]
            role=rx.cond(S.result_kind == "success", "status", "alert"),
            high_contrast=True, size="2", width="100%",
            data_kind=S.result_kind,
        ),
    )


def _code_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label("Ticket code or booking reference", html_for="ticket-code-input",
                        style={"font_weight": "500"}),
            rx.hstack(
                rx.input(id="ticket-code-input", name="code", value=S.code,
                         on_change=S.set_code, auto_complete="off", auto_capitalize="characters",
                         spell_check=False, placeholder="TK… or BK…", size="3",
                         width="100%", max_length=64),
                rx.button("Check in", type="submit", size="3", high_contrast=True),
                width="100%", spacing="2",
            ),
            spacing="1", width="100%",
        ),
        on_submit=S.submit_code, width="100%",
    )


def _expected_row(entry: Any) -> rx.Component:
    return rx.el.li(rx.text(entry.name, weight="medium"), rx.text(" · " + entry.reference, size="2",
                                                                  color="#60646c", as_="span"))


def _present_row(entry: Any) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(entry.name, weight="medium"),
            rx.text(entry.checked_in_at, size="2", color="#60646c"),
            rx.button("Undo", on_click=S.undo(entry.booking_id), variant="ghost", size="1",
                      aria_label="Undo check-in of " + entry.name),
            align="center", spacing="3", wrap="wrap",
        ),
    )


def _lists() -> rx.Component:
    return rx.vstack(
        rx.heading("Still expected (" + S.expected.length().to_string() + ")", as_="h2", size="4",
                   id="expected-heading"),
        rx.cond(S.expected.length() > 0,
                rx.el.ul(rx.foreach(S.expected, _expected_row), aria_labelledby="expected-heading",
                         id="expected-list", style={"padding_left": "1.25rem", "margin": "0"}),
                empty("Everyone who booked is here.")),
        rx.heading("Checked in (" + S.present.length().to_string() + ")", as_="h2", size="4",
                   id="present-heading", margin_top="1rem"),
        rx.cond(S.present.length() > 0,
                rx.el.ul(rx.foreach(S.present, _present_row), aria_labelledby="present-heading",
                         id="present-list", style={"padding_left": "1.25rem", "margin": "0"}),
                empty("Nobody checked in yet.")),
        spacing="2", width="100%",
    )


def page() -> rx.Component:
    return page_layout(
        rx.cond(S.loading, "Check-in", "Check-in: " + S.title),
        rx.link("← Attendees", href="/dashboard/events/" + S.event_number.to_string()),
        error_message(S.error),
        rx.cond(
            S.loading,
            loading("Loading the door list ..."),
            rx.cond(
                S.error == "",
                rx.vstack(
                    _result(),
                    _code_form(),
                    ticket_scanner(on_scan=S.scanned, view_id="ticket-scanner-view"),
                    _lists(),
                    spacing="4", width="100%", max_width="40rem", margin_top="1rem",
                ),
            ),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
