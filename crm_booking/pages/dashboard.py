"""/dashboard : the facilitator's events, seats, revenue; create, edit, deactivate, cancel."""

from __future__ import annotations

import zoneinfo
from typing import Any

import reflex as rx

from crm_booking.components.feedback import empty, error_message, loading, success_message
from crm_booking.components.fields import select_field, text_area, text_field
from crm_booking.components.layout import page_layout
from crm_booking.services.cancellation_policy import MAX_TIERS
from crm_booking.state.dashboard import PERIODS, REPEAT_DAYS, SERIES_SCOPES, DashboardState
from crm_booking.state.pass_sales import PassSalesState
from crm_booking.state.session import SessionState as _SessionState

TYPES = [("session", "Session"), ("workshop", "Workshop"), ("retreat", "Retreat")]

# Reflex turns state attributes into Vars at runtime; mypy only sees the plain types.
SessionState: Any = _SessionState
S: Any = DashboardState


def _stat(label: str, value: rx.Var[str]) -> rx.Component:
    return rx.box(rx.text(label, size="1", color="#60646c"), rx.text(value, weight="bold"))


def event_row(event: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(event.title, as_="h2", size="4"),
                rx.hstack(
                    rx.cond(event.series_id > 0,
                            rx.badge("Series", variant="soft", color_scheme="teal",
                                     high_contrast=True)),
                    rx.badge(event.status_label, variant="soft", high_contrast=True,
                             color_scheme=rx.cond(event.is_active, "green", "gray")),
                    spacing="2",
                ),
                justify="between", width="100%", align="start", wrap="wrap",
            ),
            rx.text(event.when, size="2"),
            rx.hstack(_stat("Seats taken", event.seats), _stat("Waitlist", event.waitlist),
                      _stat("Revenue", event.revenue), spacing="6"),
            rx.flex(
                rx.link("Attendees", href="/dashboard/events/" + event.id.to_string(),
                        weight="medium"),
                rx.link("Check-in", href="/dashboard/events/" + event.id.to_string() + "/check-in",
                        weight="medium", aria_label="Check-in for " + event.title),
                rx.button("Duplicate", variant="ghost", size="2", high_contrast=True,
                          on_click=S.duplicate(event.id), aria_label="Duplicate " + event.title),
                rx.cond(
                    ~event.cancelled,
                    rx.hstack(
                        rx.button("Edit", variant="soft", high_contrast=True, size="2",
                                  on_click=S.open_form(event.id),
                                  aria_label="Edit " + event.title),
                        rx.cond(
                            event.is_active,
                            rx.button("Deactivate", variant="outline", size="2",
                                      color_scheme="gray", high_contrast=True,
                                      on_click=S.set_active(event.id, False),
                                      aria_label="Deactivate " + event.title),
                            rx.button("Reactivate", variant="outline", size="2",
                                      color_scheme="gray", high_contrast=True,
                                      on_click=S.set_active(event.id, True),
                                      aria_label="Reactivate " + event.title),
                        ),
                        rx.button("Cancel event", variant="outline", color_scheme="red",
                                  size="2", on_click=S.ask_cancel(event.id),
                                  aria_label="Cancel event " + event.title),
                        spacing="3", wrap="wrap",
                    ),
                ),
                align="center", wrap="wrap", style={"gap": "0.75rem"},
            ),
            spacing="2", align="start", width="100%",
        ),
        width="100%",
    )


def _keep(name: str) -> Any:
    return lambda value: S.keep_draft(name, value)


def _field(label: str, name: str, **props: object) -> rx.Component:
    return text_field(label, name, S.form_errors[name], default_value=S.form_values[name],
                      field_id=f"event-{name}", on_change=_keep(name), **props)  # type: ignore[arg-type]


COVER_UPLOAD_ID = "event-cover"
IMAGE_TYPES = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}


COVER_INPUT_ID = "event-cover-file"


def _labelled_file_input(upload: rx.Component) -> rx.Component:
    """rx.upload.root renders its own hidden <input type=file> and takes no props for it, so
    the id the "Cover picture" label points at is set on that input here; without it axe
    reports a form field with no label."""
    [zone] = upload.children
    file_input = zone.children[0]
    if not isinstance(file_input, rx.Component) or file_input.tag != "input":
        raise RuntimeError("rx.upload.root no longer starts with its file input")
    file_input.id = COVER_INPUT_ID
    return upload


def cover_field() -> rx.Component:
    """Cover picture: chosen (or dropped) files upload at once and show a preview; the alt
    text is a normal form field saved with the event."""
    return rx.box(
        rx.el.label("Cover picture", id="cover-label", html_for=COVER_INPUT_ID,
                    style={"font_weight": "500", "display": "block", "margin_bottom": "0.25rem"}),
        rx.hstack(
            rx.cond(S.cover_preview != "",
                    rx.image(src=S.cover_preview, alt="Preview of the cover picture",
                             width="8rem", style={"aspect_ratio": "1200 / 630",
                                                  "object_fit": "cover", "border_radius": "4px"})),
            rx.vstack(
                _labelled_file_input(rx.upload.root(
                    rx.button(rx.icon("image", aria_hidden="true"),
                              rx.cond(S.cover_uploading, "Uploading ...", "Choose a picture"),
                              type="button", variant="soft", high_contrast=True,
                              aria_describedby="cover-label"),
                    id=COVER_UPLOAD_ID, accept=IMAGE_TYPES, max_files=1, multiple=False,
                    no_drag=False,
                    on_drop=S.upload_cover(rx.upload_files(upload_id=COVER_UPLOAD_ID)),
                )),
                rx.cond(S.cover_preview != "",
                        rx.button("Remove picture", type="button", variant="ghost", size="1",
                                  color_scheme="gray", high_contrast=True,
                                  on_click=S.remove_cover)),
                spacing="1", align="start",
            ),
            spacing="3", align="center",
        ),
        rx.text("JPEG, PNG or WebP, at least 400x210; shown at 1200x630.", size="1",
                color="#60646c"),
        rx.cond(S.form_errors["cover_image"] != "",
                rx.text(S.form_errors["cover_image"], id="event-cover_image-error",
                        color="#ce2c31", size="2", weight="medium", role="alert")),
        _field("Picture description (alt text)", "cover_image_alt",
               hint="What the picture shows, for people who cannot see it"),
        width="100%",
    )


def _checkbox(label: str, name: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, id=f"event-{name}",
                    default_checked=S.form_values[name] == "on",
                    style={"width": "1.1rem", "height": "1.1rem"}),
        label,
        style={"display": "flex", "gap": "0.5rem", "align_items": "center"},
    )


def _reminder_fields() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Reminder emails to attendees", style={"font_weight": "500"}),
        rx.hstack(_checkbox("24 hours before", "remind_24h"), _checkbox("1 hour before", "remind_1h"),
                  spacing="5", wrap="wrap"),
        style={"border": "none", "padding": "0", "margin": "0"},
    )


# Every zone the server knows, offered as the field's suggestions: typing filters the list,
# and the service still refuses a name that is not a zone.
TIMEZONES = sorted(z for z in zoneinfo.available_timezones()
                   if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))


def timezone_list() -> rx.Component:
    return rx.el.datalist(*[rx.el.option(value=name) for name in TIMEZONES], id="timezone-names")


def _tier_row(n: int) -> rx.Component:
    return rx.grid(
        _field(f"Tier {n}: more than … hours before the start", f"tier{n}_hours", type="text",
               input_mode="numeric"),
        _field(f"Tier {n}: refund %", f"tier{n}_percent", type="text", input_mode="numeric"),
        columns="2", spacing="3", width="100%",
    )


def policy_fields() -> rx.Component:
    """Refund tiers, prefilled with the facilitator's saved default (or the suggested one)."""
    return rx.el.fieldset(
        rx.el.legend("Cancellation policy (paid events)",
                     style={"font_weight": "600", "margin_bottom": "0.25rem"}),
        rx.text("An attendee who cancels more than the given hours before the start gets that "
                "share back; after the last row, nothing. Leave every row empty for a full "
                "refund until the start. Free events have no policy.", size="1",
                color="#60646c", margin_bottom="0.5rem"),
        *[_tier_row(n) for n in range(1, MAX_TIERS + 1)],
        rx.cond(S.form_errors["refund_policy"] != "",
                rx.text(S.form_errors["refund_policy"], id="event-refund_policy-error",
                        color="#ce2c31", size="2", weight="medium", role="alert")),
        rx.el.label(
            rx.el.input(type="checkbox", name="save_refund_policy_as_default",
                        id="event-save-policy-default"),
            " Use this policy by default for my future events",
            html_for="event-save-policy-default",
            style={"display": "flex", "gap": "0.5rem", "align_items": "center",
                   "margin_top": "0.5rem"},
        ),
        style={"border": "1px solid #d9d9e0", "border_radius": "6px", "padding": "0.75rem",
               "width": "100%", "display": "flex", "flex_direction": "column", "gap": "0.5rem"},
    )


def _day_checkbox(day: str, label: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=f"repeat_{day}", id=f"event-repeat_{day}",
                    default_checked=S.form_values[f"repeat_{day}"] == "on",
                    style={"width": "1.1rem", "height": "1.1rem"}),
        label,
        style={"display": "flex", "gap": "0.35rem", "align_items": "center"},
    )


def repeat_fields() -> rx.Component:
    """A new event may repeat weekly (issue 17); the state builds the RRULE from these."""
    return rx.el.fieldset(
        rx.el.legend("Repeats", style={"font_weight": "600", "margin_bottom": "0.25rem"}),
        select_field("Repeats", "repeat", [("none", "Does not repeat"), ("weekly", "Weekly")],
                     field_id="event-repeat", default_value=S.form_values["repeat"],
                     on_change=_keep("repeat")),
        rx.el.fieldset(
            rx.el.legend("On these days (none ticked: the start's day)",
                         style={"font_weight": "500"}),
            rx.hstack(*[_day_checkbox(day, label) for day, label in REPEAT_DAYS],
                      spacing="4", wrap="wrap"),
            style={"border": "none", "padding": "0", "margin": "0"},
        ),
        rx.grid(
            _field("Every … weeks", "repeat_interval", type="text", input_mode="numeric"),
            _field("Number of sessions", "repeat_count", type="text", input_mode="numeric",
                   hint="Or give a last date instead"),
            _field("Last date", "repeat_until", type="date", hint="Sessions up to and including it"),
            columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%",
        ),
        rx.cond(S.form_errors["recurrence"] != "",
                rx.text(S.form_errors["recurrence"], id="event-recurrence-error",
                        color="#ce2c31", size="2", weight="medium", role="alert")),
        style={"border": "1px solid #d9d9e0", "border_radius": "6px", "padding": "0.75rem",
               "width": "100%", "display": "flex", "flex_direction": "column", "gap": "0.5rem"},
    )


def series_scope_field() -> rx.Component:
    return select_field("Apply the changes to", "series_scope", list(SERIES_SCOPES.items()),
                        S.form_errors["series_scope"], field_id="event-series_scope",
                        default_value=S.form_values["series_scope"],
                        on_change=_keep("series_scope"))


def event_form() -> rx.Component:
    return rx.form(
        timezone_list(),
        rx.vstack(
            rx.cond(S.editing_series_id > 0, series_scope_field()),
            _field("Title", "title", required=True),
            text_area("Description", "description", S.form_errors["description"],
                      default_value=S.form_values["description"], on_change=_keep("description")),
            rx.grid(
                select_field("Type", "event_type", TYPES, S.form_errors["event_type"],
                             default_value=S.form_values["event_type"],
                             on_change=_keep("event_type")),
                _field("Timezone", "timezone", list="timezone-names", auto_complete="off",
                       hint="Type to search, e.g. Kolkata or London"),
                _field("Starts", "start_datetime", type="datetime-local"),
                _field("Ends", "end_datetime", type="datetime-local"),
                _field("Location", "location", hint="Leave empty for an online event"),
                _field("Online link", "virtual_link", type="url",
                       placeholder="https://"),
                _field("Capacity", "max_participants", type="number", min="1",
                       input_mode="numeric"),
                _field("Price (₹)", "price", type="text", input_mode="decimal",
                       hint="0 for a free event"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
            ),
            rx.cond(S.editing_id == 0, repeat_fields()),
            cover_field(),
            rx.cond(S.change_notice != "",
                    rx.callout(S.change_notice, icon="mail", color_scheme="blue",
                               high_contrast=True, id="change-notice", width="100%")),
            policy_fields(),
            _reminder_fields(),
            error_message(S.form_error),
            rx.hstack(
                rx.button("Discard", type="button", variant="soft", color_scheme="gray",
                          high_contrast=True, on_click=S.discard_draft),
                rx.button("Save event", type="submit", loading=S.saving, high_contrast=True),
                justify="end", spacing="3", width="100%",
            ),
            spacing="3", width="100%",
        ),
        # The service checks every field and the messages appear beside them; the browser's
        # own pop-ups would show one problem at a time and hide the others.
        on_submit=S.save, key=S.form_key.to_string(), no_validate=True,
    )


def form_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id > 0, "Edit event", "New event")),
            rx.dialog.description("Times are in the event's timezone. Unsaved changes are kept "
                                  "if you close this window or reload the page.", size="2",
                                  margin_bottom="1rem"),
            event_form(),
            max_width="44rem",
        ),
        open=S.form_open, on_open_change=S.set_form_open,
    )


def cancel_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel “" + S.cancel_title + "”?"),
            rx.alert_dialog.description(S.cancel_question, id="cancel-event-quote"),
            rx.cond(
                S.cancel_series_id > 0,
                rx.box(
                    rx.el.label("Sessions to cancel", html_for="cancel-scope",
                                style={"font_weight": "500", "display": "block",
                                       "margin_top": "0.75rem"}),
                    rx.el.select(*[rx.el.option(text, value=value)
                                   for value, text in SERIES_SCOPES.items()],
                                 id="cancel-scope", value=S.cancel_scope,
                                 on_change=S.set_cancel_scope, class_name="native-select"),
                ),
            ),
            rx.text("Attendees are emailed. This cannot be undone.", size="2", margin_top="0.5rem"),
            rx.el.label("Message to attendees (optional)", html_for="cancel-note",
                        style={"font_weight": "500", "display": "block", "margin_top": "0.75rem"}),
            rx.text_area(id="cancel-note", value=S.cancel_note, on_change=S.set_cancel_note,
                         rows="3", max_length=2000, width="100%",
                         placeholder="Added to the cancellation email"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep the event", variant="soft",
                                                 color_scheme="gray", high_contrast=True)),
                # high_contrast: white on Radix's plain red is 3.9:1, below WCAG's 4.5:1.
                rx.button("Cancel event and refund", color_scheme="red", high_contrast=True,
                          on_click=S.confirm_cancel, loading=S.cancelling),
                spacing="3", justify="end", margin_top="1rem", wrap="wrap",
            ),
        ),
        open=S.cancel_open, on_open_change=S.set_cancel_open,
    )


def _numbers() -> rx.Component:
    """Totals for the chosen period and a chart of bookings and revenue per day."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("At a glance", as_="h2", size="4"),
                rx.box(
                    rx.el.label("Period", html_for="period", style={"margin_right": "0.5rem"}),
                    rx.el.select(
                        *[rx.el.option(label, value=value) for value, label in PERIODS.items()],
                        id="period", value=S.period_days, on_change=S.set_period,
                        class_name="native-select", style={"width": "auto"},
                    ),
                ),
                justify="between", width="100%", align="center", wrap="wrap",
            ),
            rx.grid(
                _stat("Revenue (net of refunds)", S.stat_revenue),
                _stat("Bookings", S.stat_bookings),
                _stat("Fill rate", S.stat_fill),
                _stat("No-shows", S.stat_no_shows),
                columns=rx.breakpoints(initial="2", md="4"), spacing="4", width="100%",
                id="totals",
            ),
            rx.box(
                rx.recharts.composed_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.x_axis(data_key="day"),
                    rx.recharts.y_axis(y_axis_id="bookings", allow_decimals=False),
                    rx.recharts.y_axis(y_axis_id="revenue", orientation="right"),
                    rx.recharts.bar(data_key="bookings", name="Bookings", y_axis_id="bookings",
                                    fill="#0b5d55"),
                    rx.recharts.line(data_key="revenue", name="Revenue (₹)", y_axis_id="revenue",
                                     stroke="#b45309", dot=False, type_="monotone"),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(),
                    data=S.chart, height=240, width="100%",
                ),
                role="img", width="100%", id="bookings-chart",
                aria_label="Chart of bookings and revenue per day for the chosen period: "
                + S.stat_bookings + " bookings, " + S.stat_revenue + " revenue.",
            ),
            spacing="3", width="100%",
        ),
        width="100%", margin_bottom="1rem",
    )


def _event_list() -> rx.Component:
    """Upcoming / past / cancelled, searched and paged on the server (fine at 500 events)."""
    return rx.vstack(
        # Toggle buttons rather than ARIA tabs: the one list below is re-read from the server
        # for each choice, so there are no separate tab panels to point at.
        rx.hstack(
            *[rx.button(label, on_click=S.set_tab(value), size="2", high_contrast=True,
                        variant=rx.cond(S.tab == value, "solid", "soft"),
                        aria_pressed=rx.cond(S.tab == value, "true", "false"))
              for value, label in (("upcoming", "Upcoming"), ("past", "Past"),
                                   ("cancelled", "Cancelled"))],
            role="group", aria_label="Which events", spacing="2", wrap="wrap",
        ),
        rx.form(
            rx.hstack(
                rx.el.label("Search your events", html_for="event-search",
                            style={"position": "absolute", "left": "-9999px"}),
                rx.input(id="event-search", name="search", default_value=S.search,
                         placeholder="Search title, description or place", width="100%"),
                rx.button("Search", type="submit", variant="soft", high_contrast=True),
                width="100%", spacing="2",
            ),
            on_submit=S.run_search, width="100%",
        ),
        rx.cond(
            S.events.length() > 0,
            rx.grid(rx.foreach(S.events, event_row), columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4", width="100%", id="event-cards"),
            rx.cond(S.total_events == 0,
                    empty("You have no events yet. Create your first one."),
                    empty(rx.cond(S.search != "", "No events match your search.",
                                  "No " + S.tab + " events.")))),
        rx.hstack(
            rx.button("Previous", on_click=S.turn_page(-1), variant="outline", high_contrast=True,
                      disabled=S.page == 0),
            rx.text("Page ", (S.page + 1).to_string(), size="2"),
            rx.button("Next", on_click=S.turn_page(1), variant="outline", high_contrast=True,
                      disabled=~S.has_more),
            spacing="3", align="center",
        ),
        spacing="3", width="100%",
    )


def refund_row(item: Any) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(item.amount + " to " + item.attendee, weight="medium"),
            rx.text(item.event_title + ": " + item.problem, size="2"),
            spacing="1", align="start",
        ),
        rx.button("Retry refund", on_click=S.retry_refund(item.id),
                  loading=S.retrying_id == item.id, variant="soft",
                  high_contrast=True, aria_label="Retry refund to " + item.attendee),
        justify="between", align="center", width="100%", wrap="wrap", style={"gap": "0.75rem"},
    )


def refunds_panel() -> rx.Component:
    """Refunds the gateway refused or has not settled for too long (issue 13)."""
    return rx.cond(
        S.refunds_to_retry.length() > 0,
        rx.card(
            rx.heading("Refunds that need attention", size="4", as_="h2", margin_bottom="0.5rem"),
            rx.vstack(rx.foreach(S.refunds_to_retry, refund_row), spacing="3", width="100%"),
            width="100%", margin_bottom="1rem", id="refunds-to-retry",
        ),
    )


def page() -> rx.Component:
    return page_layout(
        "Your events",
        rx.cond(
            S.forbidden,
            empty("This dashboard is for facilitators. Ask an administrator to give your "
                  "account the facilitator role."),
            rx.fragment(
                rx.button(rx.icon("plus", aria_hidden="true"), "New event",
                          on_click=S.open_form(0), size="3", high_contrast=True,
                          margin_bottom="1rem"),
                success_message(S.message, on_dismiss=S.dismiss_message),
                error_message(S.error, on_dismiss=S.dismiss_error),
                refunds_panel(),
                rx.cond(
                    S.loading,
                    loading("Loading your events ..."),
                    rx.fragment(_numbers(), _event_list()),
                ),
                passes_panel(),
            ),
        ),
        form_dialog(),
        cancel_dialog(),
    )



# --- class passes (issue 17) ----------------------------------------------------------------------

P: Any = PassSalesState


def _pass_row(row: Any) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(rx.el.strong(row.name), size="3"),
            rx.text(row.terms, size="2"),
            rx.text(row.sold, " · ", row.credits_used, size="2", class_name="pass-sales"),
            spacing="0", align="start",
        ),
        rx.button(rx.cond(row.on_sale, "Stop selling", "Sell again"), variant="outline",
                  size="2", on_click=P.set_on_sale(row.id, ~row.on_sale),
                  aria_label=rx.cond(row.on_sale, "Stop selling ", "Sell again ") + row.name),
        justify="between", align="center", gap="3", wrap="wrap", width="100%",
        style={"border_bottom": "1px solid #e8e8ec", "padding_bottom": "0.5rem"},
    )


def _pass_form() -> rx.Component:
    errors = P.form_errors
    return rx.form(
        rx.grid(
            text_field("Pass name", "name", errors["name"].to(str), placeholder="Ten mornings",
                       field_id="pass-name"),
            text_field("Classes", "credits", errors["credits"].to(str), input_mode="numeric",
                       field_id="pass-credits"),
            text_field("Valid for (days)", "valid_days", errors["valid_days"].to(str),
                       input_mode="numeric", field_id="pass-valid-days"),
            text_field("Price (₹)", "price", errors["price"].to(str), input_mode="decimal",
                       field_id="pass-price"),
            select_field("Covers", "event_type",
                         [("", "All my events"), ("session", "Sessions only"),
                          ("workshop", "Workshops only"), ("retreat", "Retreats only")],
                         errors["event_type"].to(str), field_id="pass-event-type"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
        ),
        rx.button("Put pass on sale", type="submit", loading=P.saving, high_contrast=True,
                  margin_top="0.75rem"),
        on_submit=P.define, key=P.form_key.to_string(), no_validate=True, width="100%",
    )


def passes_panel() -> rx.Component:
    return rx.card(
        rx.heading("Class passes", size="4", as_="h2", margin_bottom="0.5rem"),
        rx.text("Sell a bundle of classes: each booking with a pass uses one class instead of a "
                "payment.", size="2", margin_bottom="0.5rem"),
        success_message(P.message),
        error_message(P.error),
        rx.cond(P.rows.length() > 0,
                rx.vstack(rx.foreach(P.rows, _pass_row), spacing="2", width="100%",
                          margin_bottom="1rem", id="pass-sales"),
                rx.text("No passes yet.", size="2", color="#60646c", margin_bottom="0.5rem")),
        rx.heading("New pass", size="3", as_="h3", margin_bottom="0.5rem"),
        _pass_form(),
        width="100%", margin_top="1rem", id="class-passes",
    )


ON_LOAD = [SessionState.load, S.load, P.load]
