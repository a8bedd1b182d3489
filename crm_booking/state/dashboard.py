"""/dashboard: a facilitator's events, with create/edit, deactivate and cancel."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from crm_booking.clock import as_utc
from crm_booking.errors import DomainError, ValidationFailed
from crm_booking.services import cancellation_policy, events, insights, media, refund, series
from crm_booking.services.events import UNSET, EventInput, EventRow
from crm_booking.settings import get_settings
from crm_booking.state import formatting as fmt
from crm_booking.state.session import login_redirect, signed_in_user

# Periods the totals can cover, in days.
PERIODS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months"}

REMINDER_FIELDS = ("remind_24h", "remind_1h")  # checkboxes, outside FORM_FIELDS (no errors)

# Written instead of "" to forget a draft: Reflex leaves localStorage alone for an empty value.
NO_DRAFT = "none"
# One row per refund tier (hours before the start, refund %), as many as a policy may have.
TIER_FIELDS = tuple(f"tier{n}_{part}" for n in range(1, cancellation_policy.MAX_TIERS + 1)
                    for part in ("hours", "percent"))
# A new event may repeat (issue 17): weekly on the ticked days (checkboxes repeat_MO ...),
# every N weeks, for N sessions or until a date. Editing a session of a series: which sessions.
REPEAT_DAYS = (("MO", "Mon"), ("TU", "Tue"), ("WE", "Wed"), ("TH", "Thu"), ("FR", "Fri"),
               ("SA", "Sat"), ("SU", "Sun"))
SERIES_FIELDS = ("repeat", "repeat_interval", "repeat_count", "repeat_until", "recurrence",
                 "series_scope")
FORM_FIELDS = ("title", "description", "event_type", "start_datetime", "end_datetime",
               "timezone", "location", "virtual_link", "max_participants", "price",
               "cover_image_alt", "cover_image", "refund_policy", *TIER_FIELDS, *SERIES_FIELDS)
# Sessions a series change or cancellation applies to, as the form offers them.
SERIES_SCOPES = {"one": "Only this session", "following": "This and the following sessions",
                 "all": "All upcoming sessions"}


@dataclasses.dataclass
class DashboardEvent:
    id: int = 0
    title: str = ""
    when: str = ""
    seats: str = ""
    waitlist: str = ""
    revenue: str = ""
    status_label: str = ""
    is_active: bool = True
    cancelled: bool = False
    series_id: int = 0


@dataclasses.dataclass
class DashboardRefund:
    """A refund the gateway refused, or one still unsettled past the alert age."""

    id: int = 0
    event_title: str = ""
    attendee: str = ""
    amount: str = ""
    problem: str = ""


def _dashboard_refund(row: refund.AttentionRow) -> DashboardRefund:
    stored = row.refund
    problem = ("Refused by the payment gateway" if stored.status == "failed"
               else "Not settled by the payment gateway yet")
    if stored.failure_reason:
        problem += f": {stored.failure_reason}"
    return DashboardRefund(id=stored.id or 0, event_title=row.title,
                           attendee=f"{row.attendee.name} ({row.attendee.email})",
                           amount=fmt.inr(stored.amount, free_label="₹0"), problem=problem)


def _status(row: EventRow) -> str:
    if row.event.cancelled_at is not None:
        return "Cancelled"
    return "Open" if row.event.is_active else "Not bookable"


def _dashboard_event(row: EventRow, revenue: Decimal) -> DashboardEvent:
    e = row.event
    return DashboardEvent(
        id=e.id or 0, title=e.title,
        when=fmt.short_date(e.start_at, e.timezone),
        seats=f"{row.held} / {e.max_participants}",
        waitlist=str(row.waiting),
        revenue=fmt.inr(revenue, free_label="₹0"),
        status_label=_status(row), is_active=e.is_active,
        cancelled=e.cancelled_at is not None, series_id=e.series_id or 0,
    )


def _local_input(value: Any, tz_name: str) -> str:
    """The value a datetime-local input expects, in the event's own timezone."""
    from zoneinfo import ZoneInfo

    return as_utc(value).astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%dT%H:%M")


def _tier_values(policy: list[dict[str, int]] | None) -> dict[str, str]:
    values = dict.fromkeys(TIER_FIELDS, "")
    for n, tier in enumerate(policy or [], start=1):
        values[f"tier{n}_hours"] = str(tier["hours_before"])
        values[f"tier{n}_percent"] = str(tier["refund_percent"])
    return values


SERIES_DEFAULTS = {"repeat": "none", "repeat_interval": "1", "repeat_count": "8", "repeat_until": "",
                   "recurrence": "", "series_scope": "one"}


def _form_values(row: EventRow | None, default_policy: list[dict[str, int]]) -> dict[str, str]:
    return {**SERIES_DEFAULTS, **_event_values(row, default_policy)}


def _event_values(row: EventRow | None, default_policy: list[dict[str, int]]) -> dict[str, str]:
    if row is None:
        return {**dict.fromkeys(FORM_FIELDS, ""), **SERIES_DEFAULTS, "event_type": "session",
                "timezone": get_settings().DEFAULT_TIMEZONE, "max_participants": "10",
                "price": "0", "remind_24h": "on", "remind_1h": "on",
                **_tier_values(default_policy)}
    e = row.event
    return {
        **_tier_values(e.refund_policy if e.price > 0 else default_policy),
        "title": e.title, "description": e.description, "event_type": e.event_type,
        "start_datetime": _local_input(e.start_at, e.timezone),
        "end_datetime": _local_input(e.end_at, e.timezone), "timezone": e.timezone,
        "location": e.location or "", "virtual_link": e.virtual_link or "",
        "max_participants": str(e.max_participants), "price": str(e.price),
        "cover_image_alt": e.cover_image_alt or "", "cover_image": "",
        "remind_24h": "on" if e.remind_24h else "", "remind_1h": "on" if e.remind_1h else "",
    }


def _policy_input(form: dict[str, str]) -> list[dict[str, Any]] | None:
    """The filled tier rows; numbers stay text when they are not whole numbers, so the
    service words the problem. No row filled: no policy (full refund until the start)."""
    def number(value: str) -> Any:
        value = value.strip()
        return int(value) if value.isdigit() else value

    tiers = []
    for n in range(1, cancellation_policy.MAX_TIERS + 1):
        hours, percent = form.get(f"tier{n}_hours", ""), form.get(f"tier{n}_percent", "")
        if hours.strip() or percent.strip():
            tiers.append({"hours_before": number(hours), "refund_percent": number(percent)})
    return tiers or None


def _is_free(price: str) -> bool:
    try:
        return Decimal(price or "0") == 0
    except ArithmeticError:
        return False


def _event_input(form: dict[str, str]) -> EventInput:
    """Form text to the service's input; the service validates and words the problems."""
    def text(name: str) -> str | None:
        value = form.get(name, "").strip()
        return value or None

    capacity = form.get("max_participants", "").strip()
    return EventInput(
        title=form.get("title", ""), description=form.get("description", ""),
        event_type=form.get("event_type", ""),
        start_datetime=text("start_datetime"), end_datetime=text("end_datetime"),
        timezone=form.get("timezone", "").strip(),
        location=text("location"), virtual_link=text("virtual_link"),
        max_participants=int(capacity) if capacity.isdigit() else capacity,
        price=form.get("price", "").strip() or "0",  # an empty price means free
        cover_image_alt=form.get("cover_image_alt", ""),
        # Checkboxes: a ticked one is sent as "on", an unticked one not at all.
        remind_24h="remind_24h" in form, remind_1h="remind_1h" in form,
        # A free event has no policy: the rows (prefilled with the default) are left out.
        refund_policy=None if _is_free(form.get("price", "").strip()) else _policy_input(form),
        save_refund_policy_as_default=form.get("save_refund_policy_as_default") == "on",
    )


def _recurrence(form: dict[str, str]) -> str | None:
    """The RRULE of a new event's "Repeats" section, or None for a one-off event."""
    if form.get("repeat") != "weekly":
        return None
    return series.weekly_rule(days=[day for day, _ in REPEAT_DAYS if f"repeat_{day}" in form],
                              interval=form.get("repeat_interval"),
                              count=form.get("repeat_count"), until=form.get("repeat_until"))


# Form fields compared to decide what a series change changes (the rest stay as they are on
# each session): a field left as it was opened is not applied to the other sessions.
_PLAIN_FIELDS = ("title", "description", "event_type", "timezone", "location", "virtual_link",
                 "max_participants", "price", "cover_image_alt")


def _changes_only(data: EventInput, form: dict[str, str], opened: dict[str, str]) -> EventInput:
    def same(*names: str) -> bool:
        return all(form.get(n, "").strip() == opened.get(n, "").strip() for n in names)

    unchanged = [name for name in _PLAIN_FIELDS if same(name)]
    if same("start_datetime", "end_datetime"):
        unchanged += ["start_datetime", "end_datetime"]
    if same(*TIER_FIELDS, "price"):
        unchanged.append("refund_policy")
    unchanged += [n for n in REMINDER_FIELDS if (n in form) == (opened.get(n) == "on")]
    return dataclasses.replace(data, **dict.fromkeys(unchanged, UNSET))


class DashboardState(rx.State):
    events: list[DashboardEvent] = []
    refunds_to_retry: list[DashboardRefund] = []
    retrying_id: int = 0
    loading: bool = True
    forbidden: bool = False
    message: str = ""
    error: str = ""
    # create / edit form
    form_open: bool = False
    editing_id: int = 0
    form_values: dict[str, str] = {}
    form_errors: dict[str, str] = {}
    form_error: str = ""
    saving: bool = False
    form_key: int = 0
    # Shown before saving an edit: who is told of a change of time, place or link.
    change_notice: str = ""
    # The series of the session being edited (0: a one-off event), and the form as opened,
    # to apply only what was changed to the other sessions.
    editing_series_id: int = 0
    _opened_values: dict[str, str] = {}
    # The unsaved form, kept in the browser's localStorage so that closing the dialog or
    # reloading the page loses nothing: {"editing_id": n, "values": {...}}.
    draft: str = rx.LocalStorage("", name="event-form-draft")
    # cover picture: shown in the form; an upload is stored at once and attached on save
    cover_preview: str = ""
    cover_uploading: bool = False
    _cover_change: str | None = None  # "" removes the picture; a stored name replaces it
    # cancel event
    cancel_open: bool = False
    cancel_id: int = 0
    cancel_title: str = ""
    cancel_question: str = ""
    cancelling: bool = False
    # Optional words from the facilitator, quoted in the cancellation emails.
    cancel_note: str = ""
    # A session of a series: cancel only it ("one"), it and the following, or all upcoming.
    cancel_series_id: int = 0
    cancel_scope: str = "one"
    # numbers at a glance and the tabbed, searched, paged list (services/insights.py)
    tab: str = "upcoming"
    search: str = ""
    page: int = 0
    has_more: bool = False
    total_events: int = 0
    period_days: str = "30"
    stat_revenue: str = ""
    stat_bookings: str = ""
    stat_fill: str = ""
    stat_no_shows: str = ""
    chart: list[dict[str, Any]] = []

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect("/dashboard")
            return
        self.message = self.error = ""
        await self._reload(user_id)
        if self._saved_draft() is not None and not self.forbidden:
            # Back after a reload with an unsaved form: open it again as it was.
            await self._open(user_id, int(self._saved_draft()["editing_id"]))  # type: ignore[index]

    async def _reload(self, user_id: int) -> None:
        try:
            found = await asyncio.to_thread(insights.event_page, actor_id=user_id, tab=self.tab,
                                            search=self.search, page=self.page)
            numbers = await asyncio.to_thread(insights.overview, actor_id=user_id,
                                              days=int(self.period_days))
        except DomainError:
            self.forbidden, self.loading = True, False
            return
        self.forbidden = False
        self.events = [_dashboard_event(r, found.revenue.get(r.event.id or 0, Decimal(0)))
                       for r in found.rows]
        self.has_more, self.total_events = found.has_more, found.total_events
        self._show_numbers(numbers)
        attention = await asyncio.to_thread(refund.needing_attention, user_id)
        self.refunds_to_retry = [_dashboard_refund(r) for r in attention]
        self.loading = False

    def _show_numbers(self, numbers: insights.Overview) -> None:
        self.stat_revenue = fmt.inr(numbers.revenue, free_label="₹0")
        self.stat_bookings = str(numbers.bookings)
        rate = numbers.fill_rate
        self.stat_fill = "—" if rate is None else f"{round(rate * 100)}%"
        self.stat_no_shows = str(numbers.no_shows)
        self.chart = [{"day": p.day.strftime("%d %b"), "bookings": p.bookings,
                       "revenue": float(p.revenue)} for p in numbers.days]

    @rx.event
    async def set_tab(self, value: str) -> None:
        user_id = await signed_in_user(self)
        if user_id is None or value not in ("upcoming", "past", "cancelled"):
            return
        self.tab, self.page = value, 0
        await self._reload(user_id)

    @rx.event
    async def run_search(self, form: dict[str, Any]) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.search, self.page = str(form.get("search", ""))[:100], 0
        await self._reload(user_id)

    @rx.event
    async def set_period(self, value: str) -> None:
        user_id = await signed_in_user(self)
        if user_id is None or value not in PERIODS:
            return
        self.period_days = value
        await self._reload(user_id)

    @rx.event
    async def turn_page(self, step: int) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.page = max(0, self.page + (1 if int(step) > 0 else -1))
        await self._reload(user_id)

    @rx.event
    async def duplicate(self, event_id: int) -> None:
        """A copy as a new draft (not bookable yet), opened in the form to set its date."""
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.message = self.error = ""
        try:
            copy = await asyncio.to_thread(events.duplicate_event, actor_id=user_id,
                                           event_id=int(event_id))
        except DomainError as problem:
            self.error = problem.message
            return
        self.message = f"Copied as a draft: “{copy.event.title}”. It is not bookable until you make it so."
        self.tab, self.page, self.search = "upcoming", 0, ""
        await self._reload(user_id)

    @rx.event
    async def retry_refund(self, refund_id: int) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.message = self.error = ""
        self.retrying_id = refund_id
        yield None
        try:
            stored = await asyncio.to_thread(refund.retry, refund_id, user_id)
            amount = fmt.inr(stored.amount, free_label="₹0")
            if stored.status == "processed":
                self.message = f"Refund of {amount} processed."
            elif stored.status == "failed":
                self.error = f"The payment gateway refused the refund of {amount} again."
            else:
                self.message = (f"Refund of {amount} sent; the payment gateway has not "
                                "settled it yet.")
        except DomainError as problem:
            self.error = problem.message
        self.retrying_id = 0
        await self._reload(user_id)

    # --- create / edit ------------------------------------------------------------------------

    @rx.event
    async def open_form(self, event_id: int) -> None:
        user_id = await signed_in_user(self)
        if user_id is not None:
            await self._open(user_id, event_id)

    async def _open(self, user_id: int, event_id: int) -> None:
        row, audience = None, 0
        if event_id:
            try:
                row = await asyncio.to_thread(events.get_event, event_id)
                audience = await asyncio.to_thread(events.change_audience,
                                                   actor_id=user_id, event_id=event_id)
            except DomainError as problem:
                self.error, self.draft = problem.message, NO_DRAFT
                return
        self.change_notice = _change_notice(audience)
        default_policy = await asyncio.to_thread(cancellation_policy.form_default, user_id)
        self.editing_id = event_id
        self.editing_series_id = (row.event.series_id or 0) if row else 0
        self._opened_values = _form_values(row, default_policy)
        self.cover_preview = (media.cover_url(row.event.cover_image, card=True) or "") if row else ""
        self._cover_change = None
        draft = self._saved_draft()
        kept = draft["values"] if draft and draft.get("editing_id") == event_id else {}
        self.form_values = {**_form_values(row, default_policy),
                            **{k: str(v) for k, v in kept.items() if k in FORM_FIELDS}}
        self.form_errors = dict.fromkeys(FORM_FIELDS, "")
        self.form_error = ""
        self.form_key += 1
        self.form_open = True

    def _saved_draft(self) -> dict[str, Any] | None:
        try:
            draft = json.loads(self.draft) if self.draft else None
        except ValueError:
            return None
        ok = isinstance(draft, dict) and isinstance(draft.get("editing_id"), int) and \
            isinstance(draft.get("values"), dict)
        return draft if ok else None

    @rx.event
    def keep_draft(self, name: str, value: str) -> None:
        """Every edit is kept (so nothing is lost), and a field's old error goes once it is
        changed: the message no longer describes what is there."""
        if name not in FORM_FIELDS:
            return
        draft = self._saved_draft()
        if draft is None or draft["editing_id"] != self.editing_id:
            draft = {"editing_id": self.editing_id, "values": {}}
        draft["values"][name] = str(value)[:5000]
        self.draft = json.dumps(draft)
        if self.form_errors.get(name):
            self.form_errors = {**self.form_errors, name: ""}
            if not any(self.form_errors.values()):
                self.form_error = ""

    @rx.event
    def discard_draft(self) -> None:
        """The form's own Close button: the person chose to leave it."""
        self.draft = NO_DRAFT
        self.form_open = False

    @rx.event
    def dismiss_message(self) -> None:
        self.message = ""

    @rx.event
    def dismiss_error(self) -> None:
        self.error = ""

    @rx.event
    def set_form_open(self, value: bool) -> None:
        self.form_open = value

    @rx.event
    async def save(self, form: dict[str, str]) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.form_values = {name: form.get(name, "") for name in FORM_FIELDS}
        self.form_values |= {name: "on" if name in form else "" for name in REMINDER_FIELDS}
        self.form_errors = dict.fromkeys(FORM_FIELDS, "")
        self.form_error = ""
        self.saving = True
        yield None
        self.form_values |= {f"repeat_{day}": "on" if f"repeat_{day}" in form else ""
                             for day, _ in REPEAT_DAYS}
        data = _event_input(form)
        if self._cover_change is not None:
            data = dataclasses.replace(data, cover_image=self._cover_change or None)
        try:
            self.message = await self._save(user_id, data, form)
        except ValidationFailed as problem:
            self.form_errors = {name: problem.details.get(name, "") for name in FORM_FIELDS}
            self.form_error = "Please correct the highlighted fields."
        except DomainError as problem:
            self.form_error = problem.message
        else:
            self.form_open, self.draft = False, NO_DRAFT
            await self._reload(user_id)
        self.saving = False

    async def _save(self, user_id: int, data: EventInput, form: dict[str, str]) -> str:
        """Create or change the event (or the series' sessions); the words for the outcome."""
        scope = form.get("series_scope", "one")
        if self.editing_id and self.editing_series_id and scope in series.SCOPES:
            if self._cover_change is not None:
                raise DomainError("Change the picture of one session at a time.")
            edit = await asyncio.to_thread(
                series.edit_series, actor_id=user_id, series_id=self.editing_series_id,
                scope=scope, from_event_id=self.editing_id,
                data=_changes_only(data, form, self._opened_values))
            return (f"Saved changes to {_plural(edit.events_updated, 'session')} of the series."
                    f"{_told(edit.attendees_notified)}")
        if self.editing_id:
            saved = await asyncio.to_thread(events.update_event, actor_id=user_id,
                                            event_id=self.editing_id, data=data)
            return f"Saved changes to “{saved.event.title}”.{_told(saved.notified)}"
        rule = _recurrence(form)
        if rule is None:
            saved = await asyncio.to_thread(events.create_event, actor_id=user_id, data=data)
            return f"Created “{saved.event.title}”."
        made = await asyncio.to_thread(series.create_series, actor_id=user_id, data=data,
                                       recurrence=rule)
        return (f"Created a series of {_plural(len(made.rows), 'session')}: "
                f"{made.summary}.")

    @rx.event
    async def upload_cover(self, files: list[rx.UploadFile]) -> AsyncIterator[None]:
        """Resize and store the chosen picture now (so the form can show it); it is attached
        to the event when the form is saved."""
        user_id = await signed_in_user(self)
        if user_id is None or not files:
            return
        self.cover_uploading = True
        self.form_errors = {**self.form_errors, "cover_image": ""}
        yield None
        data = await files[0].read()
        try:
            name = await asyncio.to_thread(media.store_cover_as, actor_id=user_id, data=data)
        except ValidationFailed as problem:
            self.form_errors = {**self.form_errors,
                                "cover_image": problem.details.get("image", problem.message)}
        except DomainError as problem:
            self.form_errors = {**self.form_errors, "cover_image": problem.message}
        else:
            self._cover_change = name
            self.cover_preview = media.cover_url(name, card=True) or ""
        self.cover_uploading = False

    @rx.event
    def remove_cover(self) -> None:
        self._cover_change = ""
        self.cover_preview = ""

    # --- activate / deactivate ----------------------------------------------------------------

    @rx.event
    async def set_active(self, event_id: int, active: bool) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.message = self.error = ""
        try:
            row = await asyncio.to_thread(events.update_event, actor_id=user_id,
                                          event_id=event_id, data=EventInput(is_active=active))
        except DomainError as problem:
            self.error = getattr(problem, "details", {}).get("is_active") or problem.message
            return
        self.message = (f"“{row.event.title}” is open for booking again." if active
                        else f"“{row.event.title}” no longer takes bookings.")
        await self._reload(user_id)

    # --- cancel -------------------------------------------------------------------------------

    @rx.event
    async def ask_cancel(self, event_id: int) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.message = self.error = ""
        try:
            quote = await asyncio.to_thread(events.cancellation_quote, actor_id=user_id,
                                            event_id=event_id)
        except DomainError as problem:
            self.error = problem.message
            return
        self.cancel_id = event_id
        self.cancel_title = next((e.title for e in self.events if e.id == event_id), "this event")
        self.cancel_series_id = next((e.series_id for e in self.events if e.id == event_id), 0)
        self.cancel_scope = "one"
        self.cancel_question = _cancel_question(quote)
        self.cancel_note = ""
        self.cancel_open = True

    @rx.event
    async def set_cancel_scope(self, value: str) -> None:
        """Which sessions of the series to cancel; the quote follows the choice."""
        user_id = await signed_in_user(self)
        if user_id is None or value not in SERIES_SCOPES or not self.cancel_series_id:
            return
        self.cancel_scope = value
        try:
            if value == "one":
                quote = await asyncio.to_thread(events.cancellation_quote, actor_id=user_id,
                                                event_id=self.cancel_id)
            else:
                quote = await asyncio.to_thread(
                    series.cancellation_quote, actor_id=user_id, series_id=self.cancel_series_id,
                    from_event_id=self.cancel_id if value == "following" else None)
        except DomainError as problem:
            self.error = problem.message
            return
        self.cancel_question = _cancel_question(quote)

    @rx.event
    def set_cancel_note(self, value: str) -> None:
        self.cancel_note = value[:2000]

    @rx.event
    def set_cancel_open(self, value: bool) -> None:
        self.cancel_open = value

    @rx.event
    async def confirm_cancel(self) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.cancelling = True
        yield None
        try:
            if self.cancel_series_id and self.cancel_scope in series.SCOPES:
                many = await asyncio.to_thread(
                    series.cancel_series, actor_id=user_id, series_id=self.cancel_series_id,
                    from_event_id=self.cancel_id if self.cancel_scope == "following" else None,
                    message=self.cancel_note or None)
                self.message = _cancel_outcome(
                    f"{_plural(many.events_cancelled, 'session')} of “{self.cancel_title}”",
                    many.total, plural=many.events_cancelled != 1)
            else:
                outcome = await asyncio.to_thread(events.cancel_event, actor_id=user_id,
                                                  event_id=self.cancel_id,
                                                  message=self.cancel_note or None)
                self.message = _cancel_outcome(f"“{self.cancel_title}”", outcome)
            self.tab, self.page = "cancelled", 0  # where the event now is
        except DomainError as problem:
            self.error = problem.message
        self.cancelling, self.cancel_open = False, False
        await self._reload(user_id)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def _change_notice(audience: int) -> str:
    if audience == 0:
        return ""
    who = "they" if audience == 1 else "all of them"
    return (f"{_people(audience)} booked this event. If you change the time, place or online "
            f"link, {who} will be emailed the new details and an updated calendar invite "
            "when you save.")


def _told(notified: int) -> str:
    if notified == 0:
        return ""
    return f" {_people(notified)} will be emailed the new details and an updated invite."


def _cancel_question(quote: events.EventCancellationQuote) -> str:
    if quote.bookings_to_cancel == 0:
        return "Nobody has booked it, so no one needs a refund."
    refunds = (f"{_plural(quote.refunds_due, 'paid booking')} will be refunded, "
               f"{fmt.inr(quote.total_refund_amount, free_label='₹0')} in total."
               if quote.refunds_due else "None of them has paid, so nothing is refunded.")
    return f"{_plural(quote.bookings_to_cancel, 'booking')} will be cancelled. {refunds}"


def _cancel_outcome(what: str, outcome: events.EventCancellation, *, plural: bool = False) -> str:
    text = (f"{what} {'are' if plural else 'is'} cancelled. "
            f"{_plural(outcome.bookings_cancelled, 'booking')} cancelled; "
            f"{_plural(outcome.refunds_processed, 'refund')} processed, "
            f"{fmt.inr(outcome.total_refund_amount, free_label='₹0')} in total.")
    if outcome.refunds_failed:
        text += (f" {_plural(outcome.refunds_failed, 'refund')} could not be sent yet and "
                 "will be retried automatically.")
    return text
