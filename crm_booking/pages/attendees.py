"""/dashboard/events/[event_id] : attendee list with CSV export."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, error_message, loading
from crm_booking.components.layout import page_layout
from crm_booking.state.attendees import AttendeesState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = AttendeesState


def _row(a: Any) -> rx.Component:
    color = rx.match(a.payment_status, ("completed", "green"), ("failed", "red"),
                     ("refunded", "gray"), "amber")
    return rx.table.row(
        rx.table.row_header_cell(a.name),
        rx.table.cell(rx.link(a.email, href="mailto:" + a.email)),
        rx.table.cell(rx.cond(a.phone != "", a.phone, "—")),
        rx.table.cell(a.reference),
        rx.table.cell(a.status),
        rx.table.cell(rx.badge(a.payment_label, color_scheme=color,  # type: ignore[arg-type]
                               variant="soft", high_contrast=True)),
    )


def _table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[
                rx.table.column_header_cell(h)
                for h in ("Name", "Email", "Phone", "Reference", "Booking", "Payment")
            ])),
            rx.table.body(rx.foreach(S.attendees, _row)),
            variant="surface", width="100%",
        ),
        overflow_x="auto", width="100%", tab_index=0, aria_label="Attendees table",
        role="region",
    )


def page() -> rx.Component:
    return page_layout(
        rx.cond(S.loading, "Attendees", "Attendees: " + S.title),
        rx.link("← Back to your events", href="/dashboard"),
        error_message(S.error),
        rx.cond(
            S.loading,
            loading("Loading attendees ..."),
            rx.cond(
                S.error == "",
                rx.vstack(
                    rx.hstack(
                        rx.text(S.seats, weight="medium"),
                        rx.button(rx.icon("download", aria_hidden="true"), "Export CSV",
                                  on_click=S.export_csv, variant="soft", high_contrast=True,
                                  disabled=S.attendees.length() == 0),
                        justify="between", width="100%", align="center", wrap="wrap",
                    ),
                    rx.cond(S.attendees.length() > 0, _table(),
                            empty("Nobody has booked this event yet.")),
                    spacing="4", width="100%", margin_top="1rem",
                ),
            ),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
