"""The frame every page shares: skip link, navigation landmark, one h1 inside <main>."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.verification_banner import verification_banner
from crm_booking.state.session import SessionState as _SessionState

# Radix gives inputs and buttons a focus ring; links and native controls get the same clear
# outline here, and the skip link appears when focused.
GLOBAL_CSS = """
a:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible,
textarea:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #0b5d55; outline-offset: 2px; border-radius: 4px;
}
.skip-link { position: absolute; left: -9999px; top: 0; }
.skip-link:focus { left: 1rem; top: 1rem; z-index: 100; background: #fff; padding: .5rem 1rem; }
.native-select { width: 100%; min-height: 2.5rem; padding: 0 .5rem; border-radius: 6px;
  border: 1px solid #8b8d98; background: #fff; color: #1c2024; font: inherit; }
.nav-link, .nav-link:hover, .nav-link:active, .nav-link:visited {
  color: #0b5d55 !important; font-weight: 500; padding: .25rem .1rem; opacity: 1 !important; }
.nav-link:hover { text-decoration: underline; }
.rt-TextFieldRoot:has(input[aria-invalid="true"]), textarea[aria-invalid="true"],
.rt-TextAreaRoot:has(textarea[aria-invalid="true"]), select[aria-invalid="true"] {
  box-shadow: inset 0 0 0 2px #ce2c31; border-color: #ce2c31; }
"""

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState


def nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, class_name="nav-link")


def _account_links() -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.fragment(
            nav_link("My bookings", "/bookings"),
            nav_link("My passes", "/passes"),
            rx.cond(SessionState.is_facilitator, nav_link("Dashboard", "/dashboard")),
            rx.cond(SessionState.is_admin, nav_link("Admin", "/admin")),
            nav_link("Profile", "/profile"),
            # Leaves the single-page app: only an HTTP response can delete the HttpOnly cookie.
            rx.button("Sign out", on_click=SessionState.sign_out, variant="ghost",
                      class_name="nav-link", size="3", style={"margin": "0"}),
        ),
        rx.fragment(nav_link("Sign in", "/login"), nav_link("Sign up", "/signup")),
    )


def header() -> rx.Component:
    return rx.el.header(
        rx.el.nav(
            rx.flex(
                rx.link(
                    rx.hstack(
                        rx.image(src="/app/logo.svg", alt="", width="28px", height="28px"),
                        rx.text("Wellness Bookings", weight="bold", size="4", color="#0b5d55"),
                        spacing="2", align="center",
                    ),
                    href="/", underline="none",
                ),
                rx.flex(nav_link("Events", "/"), _account_links(), wrap="wrap", align="center",
                        style={"gap": "0.25rem 1.25rem"}),
                justify="between", align="center", wrap="wrap", gap="3",
                max_width="72rem", margin_x="auto", padding_x="1rem", padding_y="0.75rem",
            ),
            aria_label="Main",
        ),
        style={"border_bottom": "1px solid #d9dadd", "background": "#f6fbfa"},
    )


def page_layout(title: rx.Var | str, *children: rx.Component) -> rx.Component:
    return rx.box(
        rx.el.style(GLOBAL_CSS),
        rx.el.a("Skip to content", href="#main", class_name="skip-link"),
        header(),
        verification_banner(),
        rx.el.main(
            rx.heading(title, as_="h1", size="7", margin_bottom="1rem"),
            *children,
            id="main", tab_index=-1,
            style={"max_width": "72rem", "margin": "0 auto", "padding": "1.5rem 1rem 3rem"},
        ),
        rx.el.footer(
            rx.text("Wellness Bookings · prices in INR", size="1", color="#60646c"),
            style={"max_width": "72rem", "margin": "0 auto", "padding": "1rem"},
        ),
        min_height="100vh",
    )
