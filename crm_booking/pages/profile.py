"""/profile : name and phone."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import error_message, loading, success_message
from crm_booking.components.fields import text_field
from crm_booking.components.layout import page_layout
from crm_booking.state.profile import ProfileState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = ProfileState


def page() -> rx.Component:
    return page_layout(
        "Your profile",
        rx.cond(
            S.loading,
            loading("Loading your profile ..."),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.text("Signed in as ", rx.el.strong(S.email), size="2"),
                        text_field("Name", "name", S.name_error, default_value=S.name,
                                   auto_complete="name", required=True),
                        text_field("Phone", "phone", S.phone_error, default_value=S.phone,
                                   type="tel", auto_complete="tel",
                                   hint="Facilitators use it if plans change. Optional."),
                        error_message(S.error),
                        success_message(S.saved),
                        rx.button("Save", type="submit", size="3", loading=S.saving,
                                  high_contrast=True),
                        spacing="3", align="start", width="100%",
                    ),
                    on_submit=S.save, key=S.form_key.to_string(), width="100%",
                ),
                max_width="32rem", width="100%",
            ),
        ),
        rx.text(rx.link("Change password or sign out everywhere", href="/change-password"),
                size="2", margin_top="1rem"),
    )


ON_LOAD = [SessionState.load, S.load]
