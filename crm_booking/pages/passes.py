"""/passes : "My passes" (credits left, expiry, what each credit paid for) and passes on sale."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_booking.components.feedback import WRAPPING, empty, error_message, loading
from crm_booking.components.layout import page_layout
from crm_booking.state.passes import PassesState
from crm_booking.state.session import SessionState as _SessionState

SessionState: Any = _SessionState
S: Any = PassesState


def credit_line(line: Any) -> rx.Component:
    return rx.el.li(
        rx.text(rx.el.strong(line.event_title), " · ", line.when, " · Ref ", line.reference,
                " · ", line.outcome, size="2"),
    )


def pass_card(card: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(card.name, as_="h3", size="4"),
                rx.badge(card.status, color_scheme=card.tone, variant="soft", high_contrast=True,
                         style=WRAPPING),
                gap="2", wrap="wrap", align="center",
            ),
            rx.text(card.credits, size="3", weight="bold", class_name="credits-left"),
            rx.cond(card.expiry != "", rx.text(card.expiry, size="2")),
            rx.cond(card.pay_url != "",
                    rx.el.a("Pay for this pass", href=card.pay_url,
                            style={"color": "#0b5d55", "font_weight": "600"})),
            rx.cond(
                card.history.length() > 0,
                rx.box(
                    rx.heading("What your credits paid for", as_="h4", size="2",
                               margin_top="0.5rem"),
                    rx.el.ul(rx.foreach(card.history, credit_line),
                             style={"padding_left": "1.25rem", "margin": "0.25rem 0 0"}),
                    width="100%",
                ),
                rx.text("No classes booked with this pass yet.", size="2", color="#60646c"),
            ),
            spacing="1", align="start", width="100%",
        ),
        width="100%", class_name="my-pass",
    )


def product_card(card: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.heading(card.name, as_="h3", size="4"),
                rx.text(card.summary, size="2"),
                rx.text(card.seller, size="2", color="#60646c"),
                spacing="1", align="start",
            ),
            rx.hstack(
                rx.text(card.price, size="4", weight="bold"),
                rx.button("Buy", on_click=S.buy(card.id), high_contrast=True, size="3",
                          loading=S.buying == card.id, aria_label="Buy " + card.name),
                spacing="3", align="center",
            ),
            justify="between", gap="3", wrap="wrap", align="center",
        ),
        width="100%",
    )


def page() -> rx.Component:
    return page_layout(
        "My passes",
        error_message(S.error, on_dismiss=S.dismiss_error),
        rx.cond(
            S.loading,
            loading("Loading passes ..."),
            rx.fragment(
                rx.cond(
                    S.signed_in,
                    rx.box(
                        rx.heading("Your passes", as_="h2", size="5", margin_bottom="1rem"),
                        rx.cond(S.mine.length() > 0,
                                rx.vstack(rx.foreach(S.mine, pass_card), spacing="3", width="100%"),
                                empty("You have no class passes yet. Buy one below: each booking "
                                      "then uses one class instead of a payment.")),
                        id="my-passes",
                    ),
                ),
                rx.heading("Passes on sale", as_="h2", size="5", margin_y="1rem"),
                rx.cond(S.on_sale.length() > 0,
                        rx.vstack(rx.foreach(S.on_sale, product_card), spacing="3", width="100%"),
                        empty("No passes are on sale right now.")),
            ),
        ),
    )


ON_LOAD = [SessionState.load, S.load]
