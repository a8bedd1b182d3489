"""One module per page; `register_pages` adds them all to the app."""

from __future__ import annotations

import reflex as rx

from crm_booking.pages import home


def register_pages(app: rx.App) -> None:
    app.add_page(home.page, route="/", title="Find a session · CRM Booking",
                 on_load=home.HomeState.load)
