"""Unknown addresses under /app: the site's frame (header, navigation, footer) around a short
explanation and a way back, instead of Reflex's bare "404: Page not found"."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty
from crm_booking.components.layout import page_layout
from crm_booking.state.session import SessionState as _SessionState

SessionState: Any = _SessionState


def page() -> rx.Component:
    return page_layout(
        "Page not found",
        empty("There is no page at this address. It may have moved, or the link may be "
              "mistyped.", rx.link("Browse upcoming events", href="/")),
    )


ON_LOAD = [SessionState.load]
