"""Issue 17, recurring series through HTTP: create, read, edit following/all (bookings kept,
their holders told), cancel following/all (paid seats refunded), and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.razorpay_server import FakeRazorpay
from tests.payments.conftest import App
from tests.support.api import Account, event_payload


def _monday_in_weeks(weeks: int) -> datetime:
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks)
    return datetime(monday.year, monday.month, monday.day, 7, 0)


def series_payload(start: datetime | None = None, recurrence: str = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4",
                   **overrides: Any) -> dict[str, Any]:
    start = start or _monday_in_weeks(1)
    fields = {"title": "Morning Flow", "start_datetime": start.isoformat(),
              "end_datetime": (start + timedelta(hours=1)).isoformat(),
              "timezone": "Asia/Kolkata", "recurrence": recurrence, **overrides}
    return event_payload(**fields)


def create_series(app: App, owner: Account, **overrides: Any) -> dict[str, Any]:
    response = app.client.post("/facilitator/series", json=series_payload(**overrides),
                               headers=owner.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["series"])


def _events(app: App, series_id: int) -> list[dict[str, Any]]:
    response = app.client.get(f"/series/{series_id}")
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def _pay(app: App, fake: FakeRazorpay, booking: dict[str, Any]) -> None:
    response = app.client.post("/payment/success", json=fake.pay(booking["payment_reference"]))
    assert response.status_code == 200, response.text


def test_a_series_is_ordinary_events_on_the_rules_dates(app: App):
    owner = app.facilitator()
    start = _monday_in_weeks(1)
    created = create_series(app, owner, start=start, max_participants=3, price=0)

    assert created["recurrence"] == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"
    assert created["summary"] == "Every Mon & Wed, 7:00 AM IST"
    assert len(created["event_ids"]) == 4 and created["next_event_id"] == created["event_ids"][0]
    listed = _events(app, created["id"])
    assert [e["id"] for e in listed] == created["event_ids"]
    days = [start + timedelta(days=d) for d in (0, 2, 7, 9)]
    assert [e["start_datetime"] for e in listed] == [d.isoformat() for d in days]
    assert [e["end_datetime"] for e in listed] == [(d + timedelta(hours=1)).isoformat() for d in days]
    assert {e["series_id"] for e in listed} == {created["id"]}
    # Every event response carries series_id; each occurrence has its own seats.
    one = app.client.get(f"/events/{listed[1]['id']}").json()
    assert one["series_id"] == created["id"] and one["max_participants"] == 3
    assert app.book(app.attendee(), listed[1]["id"])["booking"]["status"] == "confirmed"
    seats = {e["id"]: e["current_participants"] for e in _events(app, created["id"])}
    assert seats == {listed[0]["id"]: 0, listed[1]["id"]: 1, listed[2]["id"]: 0, listed[3]["id"]: 0}
    # A one-off event says it belongs to no series.
    assert app.event(owner)["series_id"] is None


def test_a_monthly_rule_on_the_last_monday(app: App):
    start = _monday_in_weeks(1)
    created = create_series(app, app.facilitator(), start=start,
                            recurrence="FREQ=MONTHLY;BYDAY=-1MO;COUNT=3")
    days = [datetime.fromisoformat(e["start_datetime"]) for e in _events(app, created["id"])]
    assert len(days) == 3 and all(d.weekday() == 0 and (d + timedelta(weeks=1)).month != d.month
                                  for d in days)
    assert created["summary"] == "Every month, 7:00 AM IST"


def test_until_a_date_includes_that_day(app: App):
    start = _monday_in_weeks(1)
    until = (start + timedelta(weeks=2)).strftime("%Y%m%d")
    created = create_series(app, app.facilitator(), start=start,
                            recurrence=f"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL={until}")
    assert [e["start_datetime"] for e in _events(app, created["id"])] == [
        start.isoformat(), (start + timedelta(weeks=2)).isoformat()]
    assert created["summary"] == "Every 2 weeks on Mon, 7:00 AM IST"


@pytest.mark.parametrize(("zone", "first", "utc_hours"), [
    # 2027: the US moves its clocks on 14 March, the UK on 28 March.
    ("America/New_York", datetime(2027, 3, 1, 7, 0), [12, 12, 11, 11]),
    ("Europe/London", datetime(2027, 3, 15, 7, 0), [7, 7, 6, 6]),
])
def test_a_weekly_class_stays_at_seven_local_across_the_dst_change(app: App, zone, first, utc_hours):
    created = create_series(app, app.facilitator(), start=first, timezone=zone,
                            recurrence="FREQ=WEEKLY;BYDAY=MO;COUNT=4")
    listed = _events(app, created["id"])
    assert [e["start_datetime"] for e in listed] == [
        (first + timedelta(weeks=w)).isoformat() for w in range(4)]
    stored = app.rows("SELECT start_at, end_at FROM events WHERE series_id=:s ORDER BY start_at",
                      s=created["id"])
    assert [r["start_at"].astimezone(UTC).hour for r in stored] == utc_hours
    assert all(r["end_at"] - r["start_at"] == timedelta(hours=1) for r in stored)


def test_editing_following_retimes_later_sessions_keeps_bookings_and_tells_attendees(app: App):
    owner = app.facilitator()
    created = create_series(app, owner, price=0)
    first, second, third, fourth = _events(app, created["id"])
    early, late = app.attendee(), app.attendee()
    kept = app.book(early, first["id"])["booking"]
    moved = app.book(late, third["id"])["booking"]

    response = app.client.put(f"/facilitator/series/{created['id']}", headers=owner.headers, json={
        "scope": "following", "from_event_id": second["id"], "title": "Morning Flow (new time)",
        # Only the time of day and the length count; each session keeps its own date.
        "start_datetime": "2030-01-01T08:30:00", "end_datetime": "2030-01-01T10:00:00",
        "location": "Studio 9"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["events_updated"], body["attendees_notified"]) == (3, 1)
    assert body["series"]["summary"] == "Every Mon & Wed, 7:00 AM IST"  # the next one is still at 7
    after = _events(app, created["id"])
    assert after[0]["start_datetime"] == first["start_datetime"] and after[0]["location"] == "Studio T"
    for before, now in zip((second, third, fourth), after[1:], strict=True):
        assert now["start_datetime"] == before["start_datetime"][:10] + "T08:30:00"
        assert now["end_datetime"] == before["start_datetime"][:10] + "T10:00:00"
        assert (now["title"], now["location"]) == ("Morning Flow (new time)", "Studio 9")
    assert app.booking(late, moved["id"])["status"] == "confirmed"
    notices = app.rows("SELECT booking_id, payload FROM outbox WHERE action='event_updated' "
                       "AND booking_id IN (:a, :b)", a=kept["id"], b=moved["id"])
    assert [n["booking_id"] for n in notices] == [moved["id"]]
    assert '"changed": ["time", "location"]' in notices[0]["payload"]


def test_editing_all_changes_every_session_not_yet_started(app: App):
    owner = app.facilitator()
    created = create_series(app, owner, price=0)
    attendee = app.attendee()
    for event in _events(app, created["id"])[:2]:
        app.book(attendee, event["id"])
    response = app.client.put(f"/facilitator/series/{created['id']}", headers=owner.headers,
                              json={"scope": "all", "virtual_link": "https://meet.example.com/flow",
                                    "max_participants": 20})
    assert response.status_code == 200, response.text
    assert (response.json()["events_updated"], response.json()["attendees_notified"]) == (4, 2)
    assert {e["max_participants"] for e in _events(app, created["id"])} == {20}
    # A change that moves nothing tells nobody.
    renamed = app.client.put(f"/facilitator/series/{created['id']}", headers=owner.headers,
                             json={"scope": "all", "title": "Flow"})
    assert renamed.json()["attendees_notified"] == 0


def test_cancelling_following_refunds_paid_seats_and_keeps_earlier_sessions(
        app: App, fake_razorpay: FakeRazorpay):
    owner = app.facilitator()
    created = create_series(app, owner, price=500)
    first, second, third, _ = _events(app, created["id"])
    payer = app.attendee()
    paid = {}
    for event in (first, second, third):
        booking = app.book(payer, event["id"])["booking"]
        _pay(app, fake_razorpay, booking)
        paid[event["id"]] = booking

    response = app.client.post(f"/facilitator/series/{created['id']}/cancel", headers=owner.headers,
                               json={"from_event_id": second["id"], "message": "Studio closing"})

    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Series cancelled successfully", "events_cancelled": 3,
                               "refunds_processed": 2, "total_refund_amount": 1000.0,
                               "refunds_failed": 0, "bookings_cancelled": 2}
    after = {e["id"]: e for e in _events(app, created["id"])}
    assert after[first["id"]]["cancelled_at"] is None
    assert all(after[e]["cancelled_at"] for e in created["event_ids"][1:])
    assert app.booking(payer, paid[first["id"]]["id"])["payment_status"] == "completed"
    for event in (second, third):
        detail = app.booking(payer, paid[event["id"]]["id"])
        assert (detail["status"], detail["payment_status"]) == ("cancelled", "refunded")
    assert app.rows("SELECT count(*) AS n FROM outbox WHERE action='event_cancelled' AND booking_id IN "
                    "(:a, :b)", a=paid[second["id"]]["id"], b=paid[third["id"]]["id"])[0]["n"] == 2
    assert app.client.get(f"/series/{created['id']}").json()["series"]["next_event_id"] == first["id"]

    # Again: nothing new cancelled, nothing refunded twice, the same totals.
    again = app.client.post(f"/facilitator/series/{created['id']}/cancel", headers=owner.headers,
                            json={"from_event_id": second["id"]})
    assert again.json()["bookings_cancelled"] == 0 and again.json()["refunds_processed"] == 2
    assert len(app.rows("SELECT id FROM refunds WHERE booking_id IN (:a, :b)",
                        a=paid[second["id"]]["id"], b=paid[third["id"]]["id"])) == 2

    # All: the one left goes too.
    rest = app.client.post(f"/facilitator/series/{created['id']}/cancel", headers=owner.headers)
    assert rest.status_code == 200 and rest.json()["events_cancelled"] == 4
    assert rest.json()["refunds_processed"] == 3 and rest.json()["total_refund_amount"] == 1500.0
    assert all(e["cancelled_at"] for e in _events(app, created["id"]))


def test_someone_elses_series_is_403_and_a_missing_one_404(app: App):
    owner = app.facilitator()
    created = create_series(app, owner)
    edit = {"scope": "all", "title": "Mine now"}
    for outsider in (app.facilitator(), app.attendee()):
        put = app.client.put(f"/facilitator/series/{created['id']}", json=edit, headers=outsider.headers)
        assert put.status_code == 403, put.text
        cancel = app.client.post(f"/facilitator/series/{created['id']}/cancel", headers=outsider.headers)
        assert cancel.status_code == 403
    assert put.json() == {"error": "Only facilitators can manage events"}
    stranger = app.client.put(f"/facilitator/series/{created['id']}", json=edit,
                              headers=app.facilitator().headers)
    assert stranger.json() == {"error": "You can only manage your own events"}
    assert app.client.post("/facilitator/series", json=series_payload(),
                           headers=app.attendee().headers).status_code == 403
    assert app.client.post("/facilitator/series", json=series_payload()).status_code == 401
    for response in (app.client.get("/series/99999999"),
                     app.client.put("/facilitator/series/99999999", json=edit, headers=owner.headers),
                     app.client.post("/facilitator/series/99999999/cancel", headers=owner.headers)):
        assert (response.status_code, response.json()) == (404, {"error": "Series not found"})
    assert all(e["title"] == "Morning Flow" for e in _events(app, created["id"]))


@pytest.mark.parametrize(("recurrence", "problem"), [
    ("FREQ=WEEKLY;BYDAY=MO", "Give exactly one of COUNT or UNTIL"),
    ("FREQ=WEEKLY;COUNT=201", "more than 200 sessions"),
    ("FREQ=DAILY;UNTIL=20991231", "more than 200 sessions"),
    ("FREQ=HOURLY;COUNT=3", "FREQ must be DAILY, WEEKLY or MONTHLY"),
    ("FREQ=YEARLY;COUNT=3", "FREQ must be DAILY, WEEKLY or MONTHLY"),
    ("FREQ=WEEKLY;BYDAY=XX;COUNT=3", "BYDAY takes"),
    ("FREQ=WEEKLY;BYDAY=1MO;COUNT=3", "BYDAY takes"),
    ("FREQ=WEEKLY;UNTIL=someday", "Not a valid RRULE"),
    ("FREQ=WEEKLY;INTERVAL=0;COUNT=3", "INTERVAL must be a whole number from 1 to 99"),
    ("FREQ=WEEKLY;COUNT=0", "COUNT must be a whole number from 1 to 200"),
    # Rules that match no date would make dateutil search up to the year 9999.
    ("FREQ=DAILY;BYMONTHDAY=30;COUNT=2", "BYMONTHDAY goes with FREQ=MONTHLY"),
    ("FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=30;COUNT=2", "BYMONTHDAY goes with FREQ=MONTHLY"),
    ("FREQ=MONTHLY;BYMONTHDAY=40;COUNT=2", "BYMONTHDAY days are 1 to 31"),
    ("FREQ=WEEKLY;BYHOUR=9;COUNT=3", "BYHOUR is not supported"),
    ("FREQ=WEEKLY;COUNT=3;COUNT=4", "COUNT is given twice"),
    ("DTSTART:20300101T070000\nRRULE:FREQ=WEEKLY;COUNT=3", "Give one RRULE line"),
    ("nonsense", "is not a NAME=VALUE part"),
])
def test_a_bad_rule_is_a_validation_error_on_recurrence(app: App, recurrence, problem):
    owner = app.facilitator()
    response = app.client.post("/facilitator/series", json=series_payload(recurrence=recurrence),
                               headers=owner.headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "Validation error" and problem in body["details"]["recurrence"]
    assert app.rows("SELECT id FROM event_series WHERE facilitator_id=:f", f=owner.id) == []


def test_field_and_rule_problems_come_together_and_nothing_is_made(app: App):
    owner = app.facilitator()
    response = app.client.post("/facilitator/series", headers=owner.headers,
                               json=series_payload(recurrence="FREQ=WEEKLY", timezone="Mars/Olympus"))
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"recurrence", "timezone"}
    assert app.rows("SELECT id FROM events WHERE facilitator_id=:f", f=owner.id) == []


def test_edit_scope_must_name_a_session_of_this_series(app: App):
    owner = app.facilitator()
    created = create_series(app, owner)
    other = app.event(owner)
    url = f"/facilitator/series/{created['id']}"
    cases = [({"scope": "some", "title": "x"}, "scope"),
             ({"scope": "following", "title": "x"}, "from_event_id"),
             ({"scope": "following", "from_event_id": other["id"], "title": "x"}, "from_event_id"),
             ({"scope": "all", "end_datetime": "2030-01-01T09:00:00"}, "end_datetime"),
             ({"scope": "all", "max_participants": 0}, "max_participants")]
    for body, field in cases:
        response = app.client.put(url, json=body, headers=owner.headers)
        assert response.status_code == 400, (body, response.text)
        assert field in response.json()["details"], (body, response.text)
    cancel = app.client.post(f"{url}/cancel", json={"from_event_id": other["id"]}, headers=owner.headers)
    assert cancel.status_code == 400 and "from_event_id" in cancel.json()["details"]
    assert all(e["title"] == "Morning Flow" for e in _events(app, created["id"]))
