"""One module per page; `register_pages` adds them all to the app (routes are under /app)."""

from __future__ import annotations

import reflex as rx

from crm_booking.pages import (
    attendees,
    confirmation,
    dashboard,
    event_detail,
    home,
    login,
    my_bookings,
    profile,
)

SITE = "Wellness Bookings"


def register_pages(app: rx.App) -> None:
    pages = [
        (home.page, "/", "Find a session", home.ON_LOAD),
        (event_detail.page, "/events/[event_id]", "Event", event_detail.ON_LOAD),
        (login.login_page, "/login", "Sign in", login.ON_LOAD),
        (login.signup_page, "/signup", "Create an account", login.ON_LOAD),
        (confirmation.page, "/booking/[reference]", "Your booking", confirmation.ON_LOAD),
        (my_bookings.page, "/bookings", "My bookings", my_bookings.ON_LOAD),
        (profile.page, "/profile", "Your profile", profile.ON_LOAD),
        (dashboard.page, "/dashboard", "Your events", dashboard.ON_LOAD),
        (attendees.page, "/dashboard/events/[event_id]", "Attendees", attendees.ON_LOAD),
    ]
    for component, route, title, on_load in pages:
        app.add_page(component, route=route, title=f"{title} · {SITE}", on_load=on_load)
