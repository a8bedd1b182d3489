"""/dashboard : the facilitator's events, seats, revenue; create, edit, deactivate, cancel."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, error_message, loading, success_message
from crm_booking.components.fields import select_field, text_area, text_field
from crm_booking.components.layout import page_layout
from crm_booking.state.dashboard import DashboardState
from crm_booking.state.session import SessionState as _SessionState

TYPES = [("session", "Session"), ("workshop", "Workshop"), ("retreat", "Retreat")]

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = DashboardState


def _stat(label: str, value: rx.Var[str]) -> rx.Component:
    return rx.box(rx.text(label, size="1", color="#60646c"), rx.text(value, weight="bold"))


def event_row(event: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(event.title, as_="h2", size="4"),
                rx.badge(event.status_label, variant="soft", high_contrast=True,
                         color_scheme=rx.cond(event.is_active, "green", "gray")),
                justify="between", width="100%", align="start", wrap="wrap",
            ),
            rx.text(event.when, size="2"),
            rx.hstack(_stat("Seats taken", event.seats), _stat("Revenue", event.revenue),
                      spacing="6"),
            rx.flex(
                rx.link("Attendees", href="/dashboard/events/" + event.id.to_string(),
                        weight="medium"),
                rx.cond(
                    ~event.cancelled,
                    rx.hstack(
                        rx.button("Edit", variant="soft", high_contrast=True, size="2",
                                  on_click=S.open_form(event.id),
                                  aria_label="Edit " + event.title),
                        rx.cond(
                            event.is_active,
                            rx.button("Deactivate", variant="outline", size="2",
                                      color_scheme="gray", high_contrast=True,
                                      on_click=S.set_active(event.id, False),
                                      aria_label="Deactivate " + event.title),
                            rx.button("Reactivate", variant="outline", size="2",
                                      color_scheme="gray", high_contrast=True,
                                      on_click=S.set_active(event.id, True),
                                      aria_label="Reactivate " + event.title),
                        ),
                        rx.button("Cancel event", variant="outline", color_scheme="red",
                                  size="2", on_click=S.ask_cancel(event.id),
                                  aria_label="Cancel event " + event.title),
                        spacing="3", wrap="wrap",
                    ),
                ),
                align="center", wrap="wrap", style={"gap": "0.75rem"},
            ),
            spacing="2", align="start", width="100%",
        ),
        width="100%",
    )


def _field(label: str, name: str, **props: object) -> rx.Component:
    return text_field(label, name, S.form_errors[name], default_value=S.form_values[name],
                      field_id=f"event-{name}", **props)  # type: ignore[arg-type]


def event_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field("Title", "title", required=True),
            text_area("Description", "description", S.form_errors["description"],
                      default_value=S.form_values["description"]),
            rx.grid(
                select_field("Type", "event_type", TYPES, S.form_errors["event_type"],
                             default_value=S.form_values["event_type"]),
                _field("Timezone", "timezone", hint="IANA name, e.g. Asia/Kolkata"),
                _field("Starts", "start_datetime", type="datetime-local"),
                _field("Ends", "end_datetime", type="datetime-local"),
                _field("Location", "location", hint="Leave empty for an online event"),
                _field("Online link", "virtual_link", type="url",
                       placeholder="https://"),
                _field("Capacity", "max_participants", type="number", min="1",
                       input_mode="numeric"),
                _field("Price (₹)", "price", type="text", input_mode="decimal",
                       hint="0 for a free event"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
            ),
            error_message(S.form_error),
            rx.hstack(
                rx.dialog.close(rx.button("Close", type="button", variant="soft",
                                          color_scheme="gray", high_contrast=True)),
                rx.button("Save event", type="submit", loading=S.saving, high_contrast=True),
                justify="end", spacing="3", width="100%",
            ),
            spacing="3", width="100%",
        ),
        on_submit=S.save, key=S.form_key.to_string(),
    )


def form_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id > 0, "Edit event", "New event")),
            rx.dialog.description("Times are in the event's timezone.", size="2",
                                  margin_bottom="1rem"),
            event_form(),
            max_width="44rem",
        ),
        open=S.form_open, on_open_change=S.set_form_open,
    )


def cancel_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel “" + S.cancel_title + "”?"),
            rx.alert_dialog.description(S.cancel_question, id="cancel-event-quote"),
            rx.text("Attendees are emailed. This cannot be undone.", size="2", margin_top="0.5rem"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep the event", variant="soft",
                                                 color_scheme="gray", high_contrast=True)),
                rx.button("Cancel event and refund", color_scheme="red",
                          on_click=S.confirm_cancel, loading=S.cancelling),
                spacing="3", justify="end", margin_top="1rem", wrap="wrap",
            ),
        ),
        open=S.cancel_open, on_open_change=S.set_cancel_open,
    )


def page() -> rx.Component:
    return page_layout(
        "Your events",
        rx.cond(
            S.forbidden,
            empty("This dashboard is for facilitators. Ask an administrator to give your "
                  "account the facilitator role."),
            rx.fragment(
                rx.button(rx.icon("plus", aria_hidden="true"), "New event",
                          on_click=S.open_form(0), size="3", high_contrast=True,
                          margin_bottom="1rem"),
                success_message(S.message),
                error_message(S.error),
                rx.cond(
                    S.loading,
                    loading("Loading your events ..."),
                    rx.cond(S.events.length() > 0,
                            rx.grid(rx.foreach(S.events, event_row),
                                    columns=rx.breakpoints(initial="1", md="2"), spacing="4",
                                    width="100%"),
                            empty("You have no events yet. Create your first one.")),
                ),
            ),
        ),
        form_dialog(),
        cancel_dialog(),
    )


ON_LOAD = [SessionState.load, S.load]
