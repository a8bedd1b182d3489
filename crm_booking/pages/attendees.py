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
    return rx.table.row(
        rx.table.row_header_cell(a.name),
        rx.table.cell(rx.link(a.email, href="mailto:" + a.email)),
        rx.table.cell(rx.cond(a.phone != "", a.phone, "—")),
        rx.table.cell(a.reference),
        rx.table.cell(a.status),
        rx.table.cell(rx.badge(a.payment_label, color_scheme=a.tone,
                               variant="soft", high_contrast=True)),
        rx.table.cell(rx.cond(a.checked_in != "", "Checked in " + a.checked_in, "—")),
    )


def _table() -> rx.Component:
    return rx.fragment(
        # On a phone the table is wider than the screen: say so, rather than hide columns.
        rx.text("Scroll the table sideways to see every column.", size="2", color="#3b3f45",
                id="table-scroll-hint", display=rx.breakpoints(initial="block", md="none")),
        _scrolling_table(),
    )


def _scrolling_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[
                rx.table.column_header_cell(h)
                for h in ("Name", "Email", "Phone", "Reference", "Booking", "Payment", "Attendance")
            ])),
            rx.table.body(rx.foreach(S.attendees, _row)),
            variant="surface", width="100%",
        ),
        overflow_x="auto", width="100%", tab_index=0, aria_label="Attendees table",
        role="region",
    )


def _waiting_row(w: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(w.place),
        rx.table.row_header_cell(w.name),
        rx.table.cell(rx.link(w.email, href="mailto:" + w.email)),
        rx.table.cell(w.status),
    )


def _waitlist() -> rx.Component:
    return rx.box(
        rx.heading("Waitlist", as_="h2", size="4", margin_bottom="0.5rem"),
        rx.cond(
            S.waitlist.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(*[
                        rx.table.column_header_cell(h)
                        for h in ("Position", "Name", "Email", "Status")
                    ])),
                    rx.table.body(rx.foreach(S.waitlist, _waiting_row)),
                    variant="surface", width="100%",
                ),
                overflow_x="auto", width="100%", tab_index=0, aria_label="Waitlist table",
                role="region", id="waitlist",
            ),
            rx.text("Nobody is waiting.", color="#3b3f45"),
        ),
        width="100%",
    )


def page() -> rx.Component:
    return page_layout(
        rx.cond(S.loading | (S.title == ""), "Attendees", "Attendees: " + S.title),
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
                        rx.link("Open check-in", href="/dashboard/events/" + S.event_number.to_string()
                                + "/check-in", weight="medium", id="open-check-in"),
                        rx.link("Message attendees", href="/dashboard/events/"
                                + S.event_number.to_string() + "/messages", weight="medium"),
                        rx.button(rx.icon("download", aria_hidden="true"), "Export CSV",
                                  on_click=S.export_csv, variant="soft", high_contrast=True,
                                  disabled=S.attendees.length() == 0),
                        justify="between", width="100%", align="center", wrap="wrap",
                    ),
                    rx.cond(S.attendees.length() > 0, _table(),
                            empty("Nobody has booked this event yet.")),
                    _waitlist(),
                    spacing="4", width="100%", margin_top="1rem",
                ),
            ),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
