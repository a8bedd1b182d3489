"""Issue 14: a banner on every page while the signed-in account's address is unconfirmed."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.state.accounts import VerificationBannerState
from crm_booking.state.session import SessionState as _SessionState

SessionState: Any = _SessionState
B: Any = VerificationBannerState


def verification_banner() -> rx.Component:
    return rx.cond(
        SessionState.signed_in & ~SessionState.email_verified,
        rx.box(
            rx.flex(
                rx.text("Please confirm your email address: we sent you a link. Until then you can "
                        "hold one unpaid booking at a time.", size="2"),
                rx.button("Send the link again", on_click=B.resend, size="2", variant="outline",
                          high_contrast=True, type="button"),
                rx.cond(B.sent != "", rx.text(B.sent, size="2", role="status")),
                rx.cond(B.problem != "", rx.text(B.problem, size="2", role="alert", color="#ce2c31")),
                wrap="wrap", align="center", gap="3", max_width="72rem", margin_x="auto",
                padding_x="1rem", padding_y="0.5rem",
            ),
            role="region", aria_label="Confirm your email address",
            style={"background": "#fff8e1", "border_bottom": "1px solid #e2c86a"},
        ),
    )
