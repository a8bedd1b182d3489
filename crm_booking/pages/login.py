"""/login and /signup."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.base import Var

from crm_booking.components.feedback import error_message, success_message
from crm_booking.components.fields import text_field
from crm_booking.components.layout import page_layout
from crm_booking.state.login import LoginState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = LoginState


def _google_button() -> rx.Component:
    return rx.cond(
        SessionState.google_enabled,
        rx.vstack(
            rx.button(
                rx.icon("log_in", size=18, aria_hidden="true"), "Continue with Google",
                on_click=S.continue_with_google, variant="outline", color_scheme="gray",
                high_contrast=True, size="3", width="100%", type="button",
            ),
            rx.text("or", size="2", color="#60646c", align="center", width="100%"),
            width="100%", spacing="3",
        ),
    )


def _keeping_next(path: str) -> Var:
    """`path` with this page's own `next`, read from the address bar by the browser rather than
    from the page's state: a person (or a script) who follows the link before the state has
    arrived over the websocket still goes on to where they were going. The page it leads to
    checks `next` (`safe_next`) as it checks any other; pre-rendered, it is the plain path."""
    return Var(_js_expr=(
        f'(typeof window === "undefined" ? "{path}" : ((next) => next'
        f' ? "{path}?next=" + encodeURIComponent(next).replace(/%2F/g, "/") : "{path}")'
        '(new URLSearchParams(window.location.search).get("next")))'
    ), _var_type=str)


def _card(*children: rx.Component) -> rx.Component:
    return rx.card(rx.vstack(*children, spacing="4", width="100%"), max_width="28rem",
                   width="100%")


def login_page() -> rx.Component:
    return page_layout(
        "Sign in",
        _card(
            success_message(S.notice),
            _google_button(),
            rx.form(
                rx.vstack(
                    text_field("Email", "email", S.email_error, type="email",
                               auto_complete="email", required=True),
                    text_field("Password", "password", S.password_error, type="password",
                               auto_complete="current-password", required=True),
                    rx.link("Forgot password?", href="/forgot-password", size="2"),
                    error_message(S.error),
                    rx.button("Sign in", type="submit", size="3", width="100%",
                              loading=S.working, high_contrast=True),
                    spacing="3", width="100%",
                ),
                on_submit=S.sign_in, width="100%",
            ),
            rx.text("New here? ", rx.link("Create an account", href=_keeping_next("/signup")), size="2"),
        ),
    )


def signup_page() -> rx.Component:
    return page_layout(
        "Create an account",
        _card(
            _google_button(),
            rx.form(
                rx.vstack(
                    text_field("Your name", "name", S.name_error, auto_complete="name",
                               required=True),
                    text_field("Email", "email", S.email_error, type="email",
                               auto_complete="email", required=True),
                    text_field("Password", "password", S.password_error, type="password",
                               auto_complete="new-password", required=True,
                               hint="At least 8 characters."),
                    error_message(S.error),
                    rx.button("Create account", type="submit", size="3", width="100%",
                              loading=S.working, high_contrast=True),
                    spacing="3", width="100%",
                ),
                on_submit=S.sign_up, width="100%",
            ),
            rx.text("Already have an account? ", rx.link("Sign in", href=_keeping_next("/login")), size="2"),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
