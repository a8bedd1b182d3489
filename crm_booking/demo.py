"""Demo data for the one-command run: a facilitator, an attendee, upcoming events, a recurring
class and a class pass on sale (how studios sell; issue 17)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from crm_booking import clock
from crm_booking.db import read_session, transaction
from crm_booking.models import Event, PassProduct, Role, User
from crm_booking.services.auth import hash_password
from crm_booking.settings import get_settings

DEMO_LOGINS = [
    ("facilitator", "facilitator@example.com", "facilitator123"),
    ("attendee", "attendee@example.com", "attendee123"),
]

_PEOPLE = [
    ("facilitator@example.com", "facilitator123", "Asha Facilitator", Role.FACILITATOR, "+919800000001"),
    ("attendee@example.com", "attendee123", "Ravi Attendee", Role.USER, "+919800000002"),
]

# (title, type, days ahead, start hour, hours long, capacity, price, location, online link, text)
_EVENTS = [
    ("Morning Hatha Yoga", "session", 2, 7, 1, 12, "499.00", "Studio A, Indiranagar", None,
     "A gentle hour of breath and movement for every level."),
    ("Guided Sound Bath", "session", 5, 18, 1, 8, "0.00", None, "https://meet.example.com/sound-bath",
     "Free online relaxation with singing bowls. Bring headphones."),
    ("Evening Vinyasa Flow", "session", 9, 19, 1, 3, "399.00", "Studio B, Koramangala", None,
     "A flowing, energetic class. Only a few mats."),
    ("Breathwork Foundations", "workshop", 7, 10, 3, 15, "1499.00", "Studio A, Indiranagar", None,
     "Pranayama techniques with practice and theory."),
    ("Ayurveda in Daily Life", "workshop", 14, 14, 4, 20, "999.00", None,
     "https://meet.example.com/ayurveda", "Online workshop on routines, food and seasons."),
    ("Weekend Silent Retreat", "retreat", 21, 9, 56, 10, "12000.00", "Nandi Hills Retreat Centre",
     None, "Two nights of silence, meditation and walks in the hills."),
    ("Himalayan Yoga Retreat", "retreat", 45, 8, 120, 16, "35000.00", "Rishikesh Ashram", None,
     "Five days of yoga, meditation and Ganga aarti."),
]


# A studio's regular class, twice a week, and the pass most regulars buy instead.
_SERIES_TITLE = "Mysore Ashtanga (Mon & Wed)"
_SERIES_RULE = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8"
_PASS = ("10-class pass", 10, 60, "3999.00", "session")


def load_demo_data() -> int:
    """Create what is missing; running it again changes nothing. Never in production: the demo
    logins are published in the README (issue 14)."""
    if get_settings().is_production:
        return 0
    created = 0
    tz = ZoneInfo("Asia/Kolkata")
    with transaction() as session:
        people: dict[str, User] = {}
        for email, password, name, role, phone in _PEOPLE:
            user = session.exec(select(User).where(User.email == email)).first()
            if user is None:
                user = User(email=email, password_hash=hash_password(password), name=name,
                            role=role.value, phone=phone, is_verified=True)
                session.add(user)
                session.flush()
                created += 1
            people[email] = user
        facilitator = people["facilitator@example.com"]
        today = clock.now().astimezone(tz).date()
        for title, kind, days, hour, hours, capacity, price, location, link, text in _EVENTS:
            exists = session.exec(
                select(Event.id).where(Event.title == title, Event.facilitator_id == facilitator.id)
            ).first()
            if exists is not None:
                continue
            start = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=tz)
            session.add(Event(
                facilitator_id=facilitator.id,  # type: ignore[arg-type]
                title=title, description=text, event_type=kind,
                start_at=clock.as_utc(start), end_at=clock.as_utc(start + timedelta(hours=hours)),
                timezone="Asia/Kolkata", location=location, virtual_link=link,
                max_participants=capacity, price=Decimal(price),
            ))
            created += 1
    return created + _load_series_and_pass(facilitator.id)  # type: ignore[arg-type]


def _load_series_and_pass(facilitator_id: int) -> int:
    """Through the services, so the demo series and pass are exactly what a facilitator makes."""
    from crm_booking.services import passes, series
    from crm_booking.services.events import EventInput

    with read_session() as session:
        has_series = session.exec(select(Event.id).where(
            Event.title == _SERIES_TITLE, Event.facilitator_id == facilitator_id)).first()
        has_pass = session.exec(select(PassProduct.id).where(
            PassProduct.name == _PASS[0], PassProduct.facilitator_id == facilitator_id)).first()
    created = 0
    if has_series is None:
        tz = ZoneInfo("Asia/Kolkata")
        today = clock.now().astimezone(tz).date()
        monday = today + timedelta(days=7 - today.weekday())  # next week's Monday
        start = datetime.combine(monday, time(6, 30), tzinfo=tz)
        made = series.create_series(actor_id=facilitator_id, recurrence=_SERIES_RULE, data=EventInput(
            title=_SERIES_TITLE, event_type="session", timezone="Asia/Kolkata",
            description="Self-paced Ashtanga with hands-on guidance. Every Monday and Wednesday.",
            start_datetime=start, end_datetime=start + timedelta(hours=1, minutes=30),
            location="Studio A, Indiranagar", max_participants=15, price=Decimal("450.00")))
        created += len(made.event_ids)
    if has_pass is None:
        name, credits, days, price, kind = _PASS
        passes.define_product(actor_id=facilitator_id, name=name, credits=credits, valid_days=days,
                              price=Decimal(price), event_type=kind)
        created += 1
    return created
