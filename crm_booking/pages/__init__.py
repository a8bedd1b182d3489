"""One module per page; `register_pages` adds them all to the app (routes are under /app)."""

from __future__ import annotations

import reflex as rx

from crm_booking.pages import (
    accounts,
    admin,
    attendees,
    checkin,
    confirmation,
    dashboard,
    event_detail,
    home,
    login,
    messages,
    my_bookings,
    not_found,
    passes,
    profile,
)

SITE = "Wellness Bookings"


def register_pages(app: rx.App) -> None:
    pages = [
        (home.page, "/", "Find a session", home.ON_LOAD),
        (event_detail.page, "/events/[event_id]", event_detail.PAGE_TITLE, event_detail.ON_LOAD),
        (login.login_page, "/login", "Sign in", login.ON_LOAD),
        (login.signup_page, "/signup", "Create an account", login.ON_LOAD),
        (confirmation.page, "/booking/[reference]", "Your booking", confirmation.ON_LOAD),
        (my_bookings.page, "/bookings", "My bookings", my_bookings.ON_LOAD),
        (passes.page, "/passes", "My passes", passes.ON_LOAD),
        (profile.page, "/profile", "Your profile", profile.ON_LOAD),
        (dashboard.page, "/dashboard", "Your events", dashboard.ON_LOAD),
        (attendees.page, "/dashboard/events/[event_id]", "Attendees", attendees.ON_LOAD),
        (checkin.page, "/dashboard/events/[event_id]/check-in", "Check-in", checkin.ON_LOAD),
        (messages.page, "/dashboard/events/[event_id]/messages", "Messages", messages.ON_LOAD),
        (accounts.verify_page, "/verify-email", "Confirm your email address", accounts.VERIFY_ON_LOAD),
        (accounts.forgot_page, "/forgot-password", "Forgot your password?", accounts.FORM_ON_LOAD),
        (accounts.reset_page, "/reset-password", "Choose a new password", accounts.FORM_ON_LOAD),
        (admin.page, "/admin", "Admin console", admin.ON_LOAD),
        (accounts.change_page, "/change-password", "Change your password", accounts.CHANGE_ON_LOAD),
    ]
    for component, route, title, on_load in pages:
        app.add_page(component, route=route, title=title + f" · {SITE}", on_load=on_load)
    app.add_page(not_found.page, route="404", title=f"Page not found · {SITE}",
                 on_load=not_found.ON_LOAD)
