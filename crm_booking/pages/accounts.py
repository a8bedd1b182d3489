"""Issue 14: /verify-email, /forgot-password, /reset-password and /change-password."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import error_message, loading, success_message
from crm_booking.components.fields import text_field
from crm_booking.components.layout import page_layout
from crm_booking.state.accounts import AccountState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = AccountState


def _card(*children: rx.Component) -> rx.Component:
    return rx.card(rx.vstack(*children, spacing="4", width="100%"), max_width="28rem", width="100%")


def _submit(label: str) -> rx.Component:
    return rx.button(label, type="submit", size="3", width="100%", loading=S.working, high_contrast=True)


def verify_page() -> rx.Component:
    return page_layout(
        "Confirm your email address",
        _card(
            rx.cond(
                S.checking,
                loading("Confirming your email address ..."),
                rx.cond(
                    S.verified,
                    rx.vstack(rx.callout("Thank you, your email address is confirmed.", icon="circle_check",
                                         color_scheme="green", role="status", high_contrast=True),
                              rx.link("Find a session", href="/"), width="100%"),
                    rx.vstack(error_message(S.error),
                              rx.text("Signed in? Use the banner above to get a new link.", size="2"),
                              width="100%"),
                ),
            ),
        ),
    )


def forgot_page() -> rx.Component:
    return page_layout(
        "Forgot your password?",
        _card(
            rx.text("Enter the email address of your account and we will send you a link to "
                    "choose a new password.", size="2"),
            rx.form(
                rx.vstack(
                    text_field("Email", "email", S.field_error, type="email", auto_complete="email",
                               required=True),
                    error_message(S.error),
                    success_message(S.notice),
                    _submit("Email me a link"),
                    spacing="3", width="100%",
                ),
                on_submit=S.forgot, width="100%",
            ),
            rx.text(rx.link("Back to sign in", href="/login"), size="2"),
        ),
    )


def reset_page() -> rx.Component:
    return page_layout(
        "Choose a new password",
        _card(
            rx.form(
                rx.vstack(
                    text_field("New password", "new_password", S.field_error, type="password",
                               auto_complete="new-password", required=True, hint="At least 8 characters."),
                    error_message(S.error),
                    success_message(S.notice),
                    _submit("Save new password"),
                    spacing="3", width="100%",
                ),
                on_submit=S.reset_with_link, key=S.form_key.to_string(), width="100%",
            ),
            rx.text(rx.link("Sign in", href="/login"), " · ",
                    rx.link("Ask for a new link", href="/forgot-password"), size="2"),
        ),
    )


def change_page() -> rx.Component:
    return page_layout(
        "Change your password",
        _card(
            rx.form(
                rx.vstack(
                    text_field("Current password", "current_password", S.current_error, type="password",
                               auto_complete="current-password", required=True),
                    text_field("New password", "new_password", S.field_error, type="password",
                               auto_complete="new-password", required=True, hint="At least 8 characters."),
                    error_message(S.error),
                    success_message(S.notice),
                    _submit("Change password"),
                    spacing="3", width="100%",
                ),
                on_submit=S.change, key=S.form_key.to_string(), width="100%",
            ),
            rx.divider(),
            rx.text("Signed in on a device you no longer use? End every session, including this one.",
                    size="2"),
            rx.button("Sign out everywhere", on_click=S.sign_out_everywhere, variant="outline",
                      color_scheme="red", size="3", type="button"),
        ),
    )


VERIFY_ON_LOAD = [SessionState.load, S.load_verify]
FORM_ON_LOAD = [SessionState.load, S.load_form]
CHANGE_ON_LOAD = [SessionState.load, S.load_change]
