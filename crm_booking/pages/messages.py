"""/dashboard/events/[event_id]/messages : message everyone booked or everyone on the waitlist,
with a preview first."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, error_message, loading, success_message
from crm_booking.components.layout import page_layout
from crm_booking.state.messages import MessagesState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = MessagesState


def _field_error(message: Any, field_id: str) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color="#b42318", size="2", id=field_id))


AUDIENCE_CHOICES = {"booked": "Everyone booked", "waitlist": "Everyone on the waitlist"}


def _audience_choice() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Send to", style={"font_weight": "500"}),
        rx.radio_group.root(
            rx.hstack(*[rx.text(rx.radio_group.item(value=value, id=f"audience-{value}"), " ",
                                rx.el.label(words, html_for=f"audience-{value}"), as_="div", size="2")
                        for value, words in AUDIENCE_CHOICES.items()],
                      spacing="4", wrap="wrap"),
            value=S.audience, on_change=S.set_audience, name="audience",
        ),
        style={"border": "none", "padding": "0", "margin": "0"},
    )


def _compose() -> rx.Component:
    return rx.vstack(
        _audience_choice(),
        rx.el.label("Subject", html_for="message-subject", style={"font_weight": "500"}),
        rx.input(id="message-subject", value=S.subject, on_change=S.set_subject, max_length=200,
                 width="100%", aria_describedby="message-subject-error",
                 aria_invalid=rx.cond(S.subject_error != "", "true", "false")),
        _field_error(S.subject_error, "message-subject-error"),
        rx.el.label("Message", html_for="message-body", style={"font_weight": "500"}),
        rx.text_area(id="message-body", value=S.body, on_change=S.set_body, rows="6",
                     max_length=5000, width="100%", aria_describedby="message-body-error",
                     aria_invalid=rx.cond(S.body_error != "", "true", "false")),
        _field_error(S.body_error, "message-body-error"),
        rx.button("Preview", on_click=S.preview, size="3", high_contrast=True),
        spacing="2", width="100%", align="start",
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Preview", as_="h2", size="4"),
            rx.text("Subject: ", rx.text(S.preview_subject, as_="span", weight="bold"),
                    id="preview-subject"),
            rx.text(S.preview_body, white_space="pre-wrap", id="preview-body"),
            rx.text(rx.cond(S.audience == "waitlist", "Goes to everyone on this event's waitlist: ",
                            "Goes to everyone booked on this event: "),
                    S.preview_count.to_string(), size="2", id="preview-count"),
            rx.hstack(
                rx.button(S.send_label, on_click=S.send, loading=S.sending, size="3",
                          high_contrast=True, disabled=S.preview_count == 0),
                rx.button("Edit", on_click=S.edit, variant="soft", size="3", high_contrast=True),
                spacing="3", wrap="wrap",
            ),
            spacing="3", align="start", width="100%",
        ),
        width="100%",
    )


def _sent_item(item: Any) -> rx.Component:
    return rx.el.li(
        rx.text(item.subject, weight="bold"),
        rx.text(item.sent_at + " · " + item.recipients, size="2", color="#60646c"),
        rx.text(item.body, white_space="pre-wrap", size="2"),
        style={"margin_bottom": "0.75rem"},
    )


def page() -> rx.Component:
    return page_layout(
        rx.cond(S.loading, "Messages", "Messages: " + S.title),
        rx.link("← Attendees", href="/dashboard/events/" + S.event_number.to_string()),
        error_message(S.error),
        success_message(S.notice),
        rx.cond(
            S.loading,
            loading("Loading messages ..."),
            rx.vstack(
                rx.cond(S.previewing, _preview(), _compose()),
                rx.heading("Sent", as_="h2", size="4", id="sent-heading"),
                rx.cond(S.sent.length() > 0,
                        rx.el.ul(rx.foreach(S.sent, _sent_item), aria_labelledby="sent-heading",
                                 id="sent-list", style={"padding_left": "1.25rem"}),
                        empty("No messages sent yet.")),
                spacing="4", width="100%", max_width="40rem", margin_top="1rem",
            ),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
