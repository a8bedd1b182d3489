"""/admin: the admin console (issue 20): people, refunds and notifications that need a hand,
payments as the gateway sees them, and the record of admin actions."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, error_message, loading, success_message
from crm_booking.components.layout import page_layout
from crm_booking.state.admin import AdminState
from crm_booking.state.session import SessionState as _SessionState

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = AdminState

ROW = {"padding": "0.5rem 0", "border_bottom": "1px solid #e0e1e6"}


def _button(label: str, on_click: Any, name: Any) -> rx.Component:
    return rx.button(label, on_click=on_click, size="2", variant="soft", high_contrast=True,
                     aria_label=label + " " + name)


def _person(person: Any) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.box(rx.text(person.name, weight="bold"), rx.text(person.email, size="2"),
                   rx.text(person.status, size="2", color="#60646c"), min_width="12rem"),
            rx.flex(
                rx.cond(person.role == "user",
                        _button("Make facilitator", S.set_role(person.id, "facilitator"), person.email)),
                rx.cond(person.role == "facilitator",
                        rx.fragment(
                            _button("Make admin", S.set_role(person.id, "admin"), person.email),
                            _button("Make attendee", S.set_role(person.id, "user"), person.email))),
                rx.cond(person.role == "admin",
                        _button("Make facilitator", S.set_role(person.id, "facilitator"), person.email)),
                rx.cond(person.active,
                        _button("Deactivate", S.deactivate(person.id), person.email),
                        _button("Reactivate", S.reactivate(person.id), person.email)),
                spacing="2", wrap="wrap",
            ),
            justify="between", align="center", wrap="wrap", spacing="2",
        ),
        style=ROW,
    )


def _people() -> rx.Component:
    return rx.el.section(
        rx.heading("People", as_="h2", size="5", id="people-heading"),
        rx.form(
            rx.flex(
                rx.el.label("Search by email or name", html_for="admin-search",
                            style={"font_weight": "500"}),
                rx.input(id="admin-search", value=S.query, on_change=S.set_query, max_length=254,
                         type="search", width="100%", max_width="24rem"),
                rx.button("Search", type="submit", size="2", high_contrast=True),
                spacing="2", wrap="wrap", align="center",
            ),
            on_submit=lambda _: S.search(),
        ),
        rx.cond(S.people.length() > 0,
                rx.el.ul(rx.foreach(S.people, _person), aria_labelledby="people-heading",
                         id="people-list", style={"list_style": "none", "padding": "0"}),
                empty("No people found.")),
        rx.flex(
            rx.button("Previous", on_click=S.previous_page, disabled=~S.has_previous, size="2",
                      variant="soft", high_contrast=True),
            rx.text(S.page_label, size="2"),
            rx.button("Next", on_click=S.next_page, disabled=~S.has_next, size="2",
                      variant="soft", high_contrast=True),
            spacing="3", align="center",
        ),
        aria_labelledby="people-heading",
    )


def _retry_list(heading: str, anchor: str, items: Any, retry: Any, none: str) -> rx.Component:
    def item(row: Any) -> rx.Component:
        return rx.el.li(
            rx.flex(rx.box(rx.text(row.summary, weight="bold"), rx.text(row.detail, size="2")),
                    _button("Retry", retry(row.id), row.summary),
                    justify="between", align="center", wrap="wrap", spacing="2"),
            style=ROW,
        )

    return rx.el.section(
        rx.heading(heading, as_="h2", size="5", id=anchor),
        rx.cond(items.length() > 0,
                rx.el.ul(rx.foreach(items, item), aria_labelledby=anchor,
                         style={"list_style": "none", "padding": "0"}),
                empty(none)),
        aria_labelledby=anchor,
    )


def _payment(row: Any) -> rx.Component:
    return rx.el.li(rx.text(row.summary, size="2"),
                    rx.text("At the gateway: ", rx.text(row.gateway_status, as_="span", weight="bold"),
                            size="2"), style=ROW)


def _action(row: Any) -> rx.Component:
    return rx.el.li(rx.text(row.summary, size="2"), rx.text(row.when, size="1", color="#60646c"),
                    style=ROW)


def _simple_list(heading: str, anchor: str, items: Any, render: Any, none: str) -> rx.Component:
    return rx.el.section(
        rx.heading(heading, as_="h2", size="5", id=anchor),
        rx.cond(items.length() > 0,
                rx.el.ul(rx.foreach(items, render), aria_labelledby=anchor,
                         style={"list_style": "none", "padding": "0"}),
                empty(none)),
        aria_labelledby=anchor,
    )


def page() -> rx.Component:
    return page_layout(
        "Admin console",
        error_message(S.error),
        success_message(S.notice),
        rx.cond(
            S.loading,
            loading("Loading the admin console ..."),
            rx.cond(
                S.allowed,
                rx.vstack(
                    _people(),
                    _retry_list("Refunds that need attention", "refunds-heading", S.refunds,
                                S.retry_refund, "No refund needs attention."),
                    _retry_list("Notifications not delivered", "notifications-heading",
                                S.notifications, S.retry_notification,
                                "Every notification was delivered or is on its way."),
                    _simple_list("Recent payments", "payments-heading", S.payments, _payment,
                                 "No payments yet."),
                    _simple_list("Admin actions", "actions-heading", S.actions, _action,
                                 "No admin actions yet."),
                    spacing="6", width="100%", max_width="48rem",
                ),
            ),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
