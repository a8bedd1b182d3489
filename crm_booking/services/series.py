"""Recurring series (issue 17): a facilitator's class that repeats, e.g. every Monday and
Wednesday at 07:00. The RFC 5545 RRULE is expanded once, at creation, by python-dateutil's
`rrule` in the event's own time zone (a 07:00 class stays at 07:00 local across a DST change),
into ordinary events that carry `series_id`. Each occurrence is then booked, edited and cancelled
as an event; this module edits or cancels many of them at once by reusing services/events.py
per occurrence (docs/decisions/recurring-series.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import Forbidden, NotFound, ValidationFailed
from crm_booking.models import Event, EventSeries, Role, User
from crm_booking.services import events
from crm_booking.services.events import UNSET, EventCancellation, EventInput, EventRow
from crm_booking.settings import get_settings

# More occurrences than this (two a week for two years) is refused: every one is a row written
# in one transaction, and a rule without an end would never stop.
MAX_OCCURRENCES = 200
MAX_RULE_LENGTH = 500

# The parts a rule may use. The time of day comes from start_datetime, so BYHOUR and the like
# are refused, as are frequencies below a day (a "class" every hour is a mistake, not a series).
# Combinations that can match no date (BYMONTH=2;BYMONTHDAY=30, BYDAY=1MO;BYMONTHDAY=30) are
# refused by these rules too: dateutil would search up to the year 9999 for them (12 s of CPU
# for one request, measured), so only parts that always match some date are allowed.
_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY"}
_ALLOWED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "WKST"}
_DAY_CODE = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
_DAY_NAMES = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat",
              "SU": "Sun"}
_DAY_ORDER = list(_DAY_NAMES)
_UNTIL_DATE = re.compile(r"^\d{8}$")


# --- the rule ---------------------------------------------------------------------------------


def rule_parts(text: Any) -> dict[str, str]:
    """The RRULE's NAME=VALUE parts, checked for what this app supports; ValidationFailed on
    `recurrence` otherwise. The values themselves are checked by dateutil when expanding."""
    if not isinstance(text, str) or not text.strip():
        raise _bad_rule("Give a recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=12")
    rule = text.strip().removeprefix("RRULE:")
    if len(rule) > MAX_RULE_LENGTH or "\n" in rule or "\r" in rule:
        raise _bad_rule("Give one RRULE line (no DTSTART or other properties)")
    parts: dict[str, str] = {}
    for piece in rule.split(";"):
        name, sep, value = piece.partition("=")
        name = name.strip().upper()
        if not sep or not value.strip():
            raise _bad_rule(f"'{piece}' is not a NAME=VALUE part")
        if name in parts:
            raise _bad_rule(f"{name} is given twice")
        if name not in _ALLOWED_PARTS:
            raise _bad_rule(f"{name} is not supported; use FREQ, INTERVAL, BYDAY, COUNT or UNTIL")
        parts[name] = value.strip().upper()
    if parts.get("FREQ") not in _FREQUENCIES:
        raise _bad_rule("FREQ must be DAILY, WEEKLY or MONTHLY")
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise _bad_rule(f"Give exactly one of COUNT or UNTIL (at most {MAX_OCCURRENCES} sessions)")
    _check_numbers(parts)
    _check_days(parts)
    return parts


def _check_numbers(parts: dict[str, str]) -> None:
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= 99:
        raise _bad_rule("INTERVAL must be a whole number from 1 to 99")
    count = parts.get("COUNT")
    if count is not None and (not count.isdigit() or int(count) < 1):
        raise _bad_rule(f"COUNT must be a whole number from 1 to {MAX_OCCURRENCES}")
    if count is not None and int(count) > MAX_OCCURRENCES:
        raise _bad_rule(f"The rule gives more than {MAX_OCCURRENCES} sessions")


def _check_days(parts: dict[str, str]) -> None:
    monthly = parts["FREQ"] == "MONTHLY"
    if "BYMONTHDAY" in parts:
        if not monthly or "BYDAY" in parts:
            raise _bad_rule("BYMONTHDAY goes with FREQ=MONTHLY, without BYDAY")
        for day in parts["BYMONTHDAY"].split(","):
            if not re.fullmatch(r"-?\d{1,2}", day) or not 1 <= abs(int(day)) <= 31:
                raise _bad_rule("BYMONTHDAY days are 1 to 31 (or -1 to -31 from the end)")
    for code in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        found = _DAY_CODE.match(code)
        if found is None or (found.group(1) and not monthly):
            raise _bad_rule("BYDAY takes MO,TU,WE,TH,FR,SA,SU (1MO to 5MO, -1MO for monthly rules)")


def _bad_rule(message: str) -> ValidationFailed:
    return ValidationFailed({"recurrence": message})


def normalized_rule(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())


def occurrence_starts(text: Any, first_local: datetime, zone: ZoneInfo) -> list[datetime]:
    """Local wall-clock starts (naive, in `zone`) of the series: the dates the rule gives on or
    after `first_local`, each at first_local's time of day. dateutil keeps the wall-clock time,
    so the UTC instant shifts by an hour across a DST change while the class stays at 07:00."""
    parts = rule_parts(text)
    until = parts.get("UNTIL", "")
    if _UNTIL_DATE.match(until):
        # A date means "up to and including that day", as a client would expect.
        parts["UNTIL"] = until + "T235959"
    try:
        if parts.get("UNTIL", "").endswith("Z"):
            # UNTIL in UTC: dateutil requires an aware start to compare it with.
            rule = rrule.rrulestr(normalized_rule(parts), dtstart=first_local.replace(tzinfo=zone))
            starts = [moment.replace(tzinfo=None) for moment in _bounded(rule)]
        else:
            starts = list(_bounded(rrule.rrulestr(normalized_rule(parts), dtstart=first_local)))
    except (ValueError, OverflowError) as exc:  # OverflowError: past the year 9999
        raise _bad_rule(f"Not a valid RRULE: {exc}") from exc
    if not starts:
        raise _bad_rule("The rule gives no session on or after start_datetime")
    return starts


def _bounded(rule: Any) -> list[datetime]:
    starts = []
    for moment in rule:
        starts.append(moment)
        if len(starts) > MAX_OCCURRENCES:
            raise _bad_rule(f"The rule gives more than {MAX_OCCURRENCES} sessions")
    return starts


def describe(recurrence: str, next_event: Event | None) -> str:
    """"Every Mon & Wed, 7:00 AM IST": the rule in words, at the next session's local time."""
    try:
        parts = rule_parts(recurrence)
    except ValidationFailed:
        return "Recurring"
    interval = int(parts.get("INTERVAL", "1") or 1) if parts.get("INTERVAL", "1").isdigit() else 1
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[parts["FREQ"]]
    every = f"Every {unit}" if interval == 1 else f"Every {interval} {unit}s"
    days = [re.sub(r"[^A-Z]", "", day) for day in parts.get("BYDAY", "").split(",") if day]
    names = [_DAY_NAMES[d] for d in sorted(set(days), key=_DAY_ORDER.index) if d in _DAY_NAMES]
    if names and unit == "week":
        every = f"Every {' & '.join(names)}" if interval == 1 else f"{every} on {' & '.join(names)}"
    if next_event is None:
        return every
    local = clock.as_utc(next_event.start_at).astimezone(ZoneInfo(next_event.timezone))
    return f"{every}, {_clock_time(local)} {local.tzname()}"


def _clock_time(moment: datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0")


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesView:
    series: EventSeries
    facilitator: User
    rows: list[EventRow]  # every visible occurrence, earliest first

    @property
    def event_ids(self) -> list[int]:
        return [row.event.id for row in self.rows if row.event.id is not None]

    def upcoming(self) -> list[EventRow]:
        """Occurrences still ahead and on sale: what an attendee can pick from."""
        now = clock.now()
        return [row for row in self.rows if row.event.cancelled_at is None and row.event.is_active
                and clock.as_utc(row.event.start_at) > now]

    @property
    def summary(self) -> str:
        upcoming = self.upcoming()
        shown = upcoming[0].event if upcoming else (self.rows[-1].event if self.rows else None)
        return describe(self.series.recurrence, shown)


def get_series(series_id: int) -> SeriesView:
    with read_session() as session:
        series = _series(session, series_id)
        facilitator = session.get(User, series.facilitator_id)
        assert facilitator is not None
    rows = events.list_events(series_id=series_id, limit=MAX_OCCURRENCES)
    return SeriesView(series, facilitator, rows)


def summaries(series_ids: set[int]) -> dict[int, str]:
    """The words for each series, for lists of events (the home page shows a series once)."""
    return {series_id: get_series(series_id).summary for series_id in series_ids}


def _series(session: Session, series_id: int) -> EventSeries:
    series = session.get(EventSeries, series_id)
    if series is None:
        raise NotFound("Series not found")
    return series


def _managed_series(session: Session, actor_id: int, series_id: int) -> tuple[User, EventSeries]:
    """403 for someone else's series (series are public, as events are), 404 for none."""
    actor = session.get(User, actor_id)
    if actor is None or actor.role not in (Role.FACILITATOR.value, Role.ADMIN.value):
        raise Forbidden("Only facilitators can manage events")
    series = _series(session, series_id)
    if actor.role != Role.ADMIN.value and series.facilitator_id != actor.id:
        raise Forbidden("You can only manage your own events")
    return actor, series


# --- creating ---------------------------------------------------------------------------------


def create_series(*, actor_id: int, data: EventInput, recurrence: Any) -> SeriesView:
    """The series and all its occurrences in one transaction: all of them, or none."""
    with transaction() as session:
        actor = events.creating_actor(session, actor_id)
        _checked(actor, data, recurrence)
        zone, first_local, length = _first_session(actor, data)
        starts = occurrence_starts(recurrence, first_local, zone)
        series = EventSeries(facilitator_id=actor.id, timezone=str(zone.key),  # type: ignore[arg-type]
                             recurrence=normalized_rule(rule_parts(recurrence)))
        session.add(series)
        session.flush()
        for start, end in _sessions(starts, length):
            occurrence = replace(data, start_datetime=start.replace(tzinfo=zone),
                                 end_datetime=end.replace(tzinfo=zone))
            events.add_new_event(session, actor, occurrence, series_id=series.id)
        session.flush()
        series_id = series.id
    return get_series(series_id)  # type: ignore[arg-type]


def _sessions(starts: list[datetime], length: timedelta) -> list[tuple[datetime, datetime]]:
    try:
        return [(start, start + length) for start in starts]
    except OverflowError as exc:
        raise _bad_rule("The sessions must end before the year 9999") from exc


def _first_session(actor: User, data: EventInput) -> tuple[ZoneInfo, datetime, timedelta]:
    """The event fields checked as for one event (all problems at once, with the rule's), and
    the first session's local start and wall-clock length."""
    events.validated_new_event(actor, data)  # ValidationFailed with every field's problem
    zone = ZoneInfo(str(data.timezone if data.timezone not in (UNSET, None)
                        else get_settings().DEFAULT_TIMEZONE))
    start, end = (_local(data.start_datetime, zone), _local(data.end_datetime, zone))
    return zone, start, end - start


def _checked(actor: User, data: EventInput, recurrence: Any) -> None:
    """Every problem at once: the event fields' and the rule's."""
    problems: dict[str, str] = {}
    for check in (lambda: events.validated_new_event(actor, data), lambda: rule_parts(recurrence)):
        try:
            check()
        except ValidationFailed as exc:
            problems.update(exc.details)
    if problems:
        raise ValidationFailed(problems)


def _local(value: Any, zone: ZoneInfo) -> datetime:
    """A given date-time as naive wall-clock time in the event's zone."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return moment


def weekly_rule(*, days: list[str], interval: Any, count: Any, until: Any) -> str:
    """The RRULE a "weekly" form describes: on these days (none: the first session's day),
    every `interval` weeks, for `count` sessions or until a date (YYYY-MM-DD, inclusive).
    ValidationFailed on `recurrence` for what cannot be a rule; the rest is checked on create."""
    parts = ["FREQ=WEEKLY"]
    text = str(interval or "1").strip()
    if not text.isdigit() or not 1 <= int(text) <= 52:
        raise _bad_rule("Repeat every 1 to 52 weeks")
    if int(text) > 1:
        parts.append(f"INTERVAL={int(text)}")
    chosen = [day for day in _DAY_ORDER if day in days]
    if chosen:
        parts.append("BYDAY=" + ",".join(chosen))
    count_text, until_text = str(count or "").strip(), str(until or "").strip()
    if until_text:
        try:
            parts.append("UNTIL=" + datetime.strptime(until_text, "%Y-%m-%d").strftime("%Y%m%d"))
        except ValueError as exc:
            raise _bad_rule("Give the last date as a date") from exc
    elif count_text.isdigit() and int(count_text) >= 1:
        parts.append(f"COUNT={int(count_text)}")
    else:
        raise _bad_rule("Give the number of sessions or the last date")
    return ";".join(parts)


def cancellation_quote(*, actor_id: int, series_id: int,
                       from_event_id: int | None) -> events.EventCancellationQuote:
    """What cancelling these sessions would do, summed (shown before the facilitator confirms)."""
    with read_session() as session:
        _, series = _managed_series(session, actor_id, series_id)
        scope = "following" if from_event_id is not None else "all"
        ids = [e.id for e in session.exec(_scope_query(session, series, scope, from_event_id))
               if e.cancelled_at is None]
    quotes = [events.cancellation_quote(actor_id=actor_id, event_id=i) for i in ids]  # type: ignore[arg-type]
    return events.EventCancellationQuote(
        bookings_to_cancel=sum(q.bookings_to_cancel for q in quotes),
        refunds_due=sum(q.refunds_due for q in quotes),
        total_refund_amount=round(sum(q.total_refund_amount for q in quotes), 2))


# --- editing ----------------------------------------------------------------------------------

SCOPES = ("following", "all")


@dataclass(frozen=True)
class SeriesEdit:
    view: SeriesView
    events_updated: int
    attendees_notified: int


def edit_series(*, actor_id: int, series_id: int, data: EventInput, scope: Any,
                from_event_id: Any = None) -> SeriesEdit:
    """Apply the same change to this and the following occurrences, or to all the ones not yet
    started, in one transaction (all of them or none). A new time is a new time of day (and
    length) on each occurrence's own date. Each occurrence goes through the one-event update
    (services/events.py), so its bookings stay and their holders get the same change notice."""
    with transaction() as session:
        actor, series = _managed_series(session, actor_id, series_id)
        targets = _targets(session, series, scope, from_event_id, include_cancelled=False)
        retime = _retiming(data)
        updated = notified = 0
        for event in targets:
            change = replace(data, **retime(event)) if retime else data
            try:
                row = events.update_locked_event(session, actor, event, change)
            except ValidationFailed as exc:
                on = events_local_date(event)
                raise ValidationFailed({name: f"{message} (session on {on})"
                                        for name, message in exc.details.items()}) from exc
            updated += 1
            notified += row.notified
        if data.timezone is not UNSET and scope == "all":
            series.timezone = str(data.timezone)
        series.updated_at = clock.now()
        session.add(series)
    return SeriesEdit(get_series(series_id), updated, notified)


def events_local_date(event: Event) -> str:
    return clock.as_utc(event.start_at).astimezone(ZoneInfo(event.timezone)).date().isoformat()


def _retiming(data: EventInput) -> Any:
    """For a change of time: a function giving each occurrence its own start and end (the new
    time of day on its own date, the new length), or None when the time is not changed."""
    if data.start_datetime is UNSET:
        if data.end_datetime is not UNSET:
            raise ValidationFailed({"end_datetime": "Give start_datetime too when changing the "
                                                    "time of a series"})
        return None
    problems: dict[str, str] = {}
    given: dict[str, datetime] = {}
    for name in ("start_datetime", "end_datetime"):
        value = getattr(data, name)
        if value is UNSET:
            continue
        try:  # the web form sends text, the API a datetime
            given[name] = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            problems[name] = "Must be an ISO 8601 date and time"
    if problems:
        raise ValidationFailed(problems)
    data = replace(data, **given)  # type: ignore[arg-type]

    def times_for(event: Event) -> dict[str, datetime]:
        zone = _zone_named(data.timezone if data.timezone is not UNSET else event.timezone)
        new_start = _local(data.start_datetime, zone)
        old_start = clock.as_utc(event.start_at).astimezone(ZoneInfo(event.timezone))
        old_length = clock.as_utc(event.end_at) - clock.as_utc(event.start_at)
        length = (_local(data.end_datetime, zone) - new_start
                  if data.end_datetime is not UNSET else old_length)
        start = datetime.combine(old_start.date(), new_start.time())
        try:
            end = start + length
        except OverflowError as exc:
            raise ValidationFailed({"end_datetime": "Must be before the year 9999"}) from exc
        return {"start_datetime": start.replace(tzinfo=zone), "end_datetime": end.replace(tzinfo=zone)}

    return times_for


def _zone_named(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed({"timezone": "Unknown timezone; use an IANA name such as "
                                            "Asia/Kolkata"}) from exc


def _targets(session: Session, series: EventSeries, scope: Any, from_event_id: Any, *,
             include_cancelled: bool) -> list[Event]:
    """The occurrences a scope names, locked in start order (one order for every series
    change, so two of them cannot deadlock)."""
    query = _scope_query(session, series, scope, from_event_id)
    if not include_cancelled:
        query = query.where(col(Event.cancelled_at).is_(None))
    return list(session.exec(lock_for_update(session, query, key_share=True)))


def _scope_query(session: Session, series: EventSeries, scope: Any, from_event_id: Any) -> Any:
    """"all": every occurrence not yet started; "following": from_event_id's occurrence and the
    later ones. A series change never rewrites or cancels a session that already began."""
    if scope not in SCOPES:
        raise ValidationFailed({"scope": "Must be 'following' or 'all'"})
    query = select(Event).where(Event.series_id == series.id, col(Event.deleted_at).is_(None),
                                col(Event.start_at) > clock.now())
    if scope == "following":
        first = _from_event(session, series, from_event_id)
        query = query.where(col(Event.start_at) >= first.start_at)
    return query.order_by(col(Event.start_at), col(Event.id))


def _from_event(session: Session, series: EventSeries, from_event_id: Any) -> Event:
    if isinstance(from_event_id, bool) or not isinstance(from_event_id, int):
        raise ValidationFailed({"from_event_id": "Give the id of an event of this series"})
    event = session.get(Event, from_event_id)
    if event is None or event.series_id != series.id or event.deleted_at is not None:
        raise ValidationFailed({"from_event_id": "Not an event of this series"})
    return event


# --- cancelling -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesCancellation:
    events_cancelled: int
    total: EventCancellation


def cancel_series(*, actor_id: int, series_id: int, from_event_id: Any = None,
                  message: str | None = None) -> SeriesCancellation:
    """Cancel from_event_id's occurrence and the later ones (or, without it, every occurrence
    not yet started), each through cancel-event in its own transaction: its bookings cancelled,
    paid ones refunded after commit, attendees told. Running it again cancels nothing new and
    refunds nothing twice (cancel-event's own guarantee), and reports the same totals."""
    with read_session() as session:
        _, series = _managed_series(session, actor_id, series_id)
        scope = "following" if from_event_id is not None else "all"
        # Cancelled ones too: a repeat retries their refunds. No lock here: each cancel-event
        # locks its own event.
        target_ids = [event.id for event in session.exec(
            _scope_query(session, series, scope, from_event_id))]
    outcomes = [events.cancel_event(actor_id=actor_id, event_id=event_id, message=message)  # type: ignore[arg-type]
                for event_id in target_ids]
    return SeriesCancellation(
        events_cancelled=len(outcomes),
        total=EventCancellation(
            refunds_processed=sum(o.refunds_processed for o in outcomes),
            total_refund_amount=round(sum(o.total_refund_amount for o in outcomes), 2),
            refunds_failed=sum(o.refunds_failed for o in outcomes),
            bookings_cancelled=sum(o.bookings_cancelled for o in outcomes),
        ),
    )


def event_series_ids(events_: list[Event]) -> set[int]:
    return {event.series_id for event in events_ if event.series_id is not None}

