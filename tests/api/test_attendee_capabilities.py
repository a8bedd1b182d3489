"""Issue 15, capabilities attendees expect, over HTTP: keyword search, add to calendar, PDF
receipts, cover pictures, share links that unfurl, maps links and the favicon."""

from __future__ import annotations

import io
import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from icalendar import Calendar
from PIL import Image
from pypdf import PdfReader

from crm_booking.db import engine_for
from tests.support.api import Account, book, create_event, new_attendee, new_facilitator
from tests.support.servers import booking_app, free_port

SELLER_ENV = {
    "SELLER_NAME": "Shanti Yoga Studio LLP",
    "SELLER_ADDRESS": "12 Lake Road; Indiranagar, Bengaluru 560038",
    "SELLER_GSTIN": "29ABCDE1234F1Z5",
    "SELLER_GST_RATE_PERCENT": "18",
}


def token() -> str:
    return uuid.uuid4().hex[:8]


def pay_in_sandbox(client: httpx.Client, payment_url: str) -> None:
    """What the sandbox checkout page does: get signed fields, post them to the callback."""
    url = urlparse(payment_url)
    reference = url.path.rsplit("/", 1)[-1]
    checkout_token = parse_qs(url.query)["token"][0]
    fields = client.post(f"/pay/{reference}/sandbox",
                         params={"token": checkout_token, "outcome": "success"})
    assert fields.status_code == 200, fields.text
    paid = client.post("/payment/success", json=fields.json())
    assert paid.status_code == 200, paid.text


def paid_booking(client: httpx.Client, attendee: Account, **event: object) -> dict:  # type: ignore[type-arg]
    created = create_event(client, new_facilitator(client, name="Meera Iyer"), **event)
    response = book(client, attendee, created["id"])
    assert response.status_code == 201, response.text
    pay_in_sandbox(client, response.json()["payment_url"])
    return dict(response.json()["booking"])


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def picture(width: int = 1600, height: int = 900, fmt: str = "PNG", noise: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (30, 120, 110))
    if noise:  # incompressible, so the file is large
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


# --- find: keyword search -----------------------------------------------------------------------


def test_keyword_search_covers_title_description_location_and_facilitator(api):
    word = token()
    teacher = new_facilitator(api, name=f"Kavya {word.upper()}")
    other = new_facilitator(api)
    by_title = create_event(api, other, title=f"Dawn {word} flow")
    by_description = create_event(api, other, description=f"Bring a {word.upper()} mat")
    by_location = create_event(api, other, location=f"Studio {word}, Koramangala")
    by_teacher = create_event(api, teacher, title="Evening stretch")
    create_event(api, other, title="Unrelated session")

    found = api.get("/events", params={"q": word})
    assert found.status_code == 200
    ids = {e["id"] for e in found.json()["events"]}
    assert ids == {by_title["id"], by_description["id"], by_location["id"], by_teacher["id"]}

    # Every word must match (anywhere), case does not matter.
    both = api.get("/events", params={"q": f"DAWN {word}"}).json()["events"]
    assert [e["id"] for e in both] == [by_title["id"]]
    # Combines with the other filters.
    mine = api.get("/events", params={"q": word, "facilitator_id": teacher.id}).json()["events"]
    assert [e["id"] for e in mine] == [by_teacher["id"]]


def test_search_wildcards_are_literal_and_bad_queries_are_validation_errors(api):
    facilitator = new_facilitator(api)
    word = token()
    create_event(api, facilitator, title=f"{word} 100% restorative")
    assert len(api.get("/events", params={"q": f"{word} 100%"}).json()["events"]) == 1
    assert api.get("/events", params={"q": f"{word} 1_0"}).json()["events"] == []
    assert api.get("/events", params={"q": f"{word} %"}).json()["events"] != []

    too_long = api.get("/events", params={"q": "x" * 101})
    assert too_long.status_code == 400
    assert too_long.json()["error"] == "Validation error" and "q" in too_long.json()["details"]
    empty = api.get("/events", params={"q": ""})
    assert empty.status_code == 400 and "q" in empty.json()["details"]


def test_search_uses_the_trigram_indexes_on_postgresql(database_url):
    """The substring search is served by GIN trigram indexes, not by reading every event."""
    from crm_booking.models import Event
    from crm_booking.services.events import _matches_word

    engine = engine_for(database_url)
    query = sa.select(Event.id).where(_matches_word("yoga"))  # type: ignore[arg-type]
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
    assert "ix_events_search_trgm" in plan, plan
    assert "ix_users_name_trgm" in plan, plan


# --- add to calendar ----------------------------------------------------------------------------


def _outbox_payload(database_url: str, booking_id: int, action: str) -> dict:  # type: ignore[type-arg]
    with engine_for(database_url).connect() as connection:
        raw = connection.execute(sa.text(
            "SELECT payload FROM outbox WHERE booking_id = :b AND action = :a ORDER BY id"
        ), {"b": booking_id, "a": action}).scalars().first()
    assert raw is not None
    return dict(json.loads(raw))


def test_calendar_file_is_the_same_event_as_the_emailed_invite(api, database_url):
    from crm_service.calendar_invites import build_invite
    from crm_service.payloads import NotifyRequest

    facilitator = new_facilitator(api, name="Meera Iyer")
    event = create_event(api, facilitator, title="Full moon sound bath", price=0,
                         timezone="Europe/London", start_datetime="2031-06-14T19:30:00",
                         end_datetime="2031-06-14T21:00:00", location="The Barn, Stroud")
    attendee = new_attendee(api)
    booking = book(api, attendee, event["id"]).json()["booking"]

    detail = api.get(f"/bookings/{booking['id']}", headers=attendee.headers).json()
    assert detail["calendar_ics_url"] == f"/bookings/{booking['id']}/calendar.ics"
    google = urlparse(detail["google_calendar_url"])
    params = parse_qs(google.query)
    assert google.netloc == "calendar.google.com" and params["action"] == ["TEMPLATE"]
    assert params["dates"] == ["20310614T183000Z/20310614T200000Z"]  # BST is UTC+1
    assert params["text"] == ["Full moon sound bath"] and params["location"] == ["The Barn, Stroud"]

    response = api.get(detail["calendar_ics_url"], headers=attendee.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "attachment" in response.headers["content-disposition"]
    downloaded = Calendar.from_ical(response.content).walk("VEVENT")[0]

    # The CRM's invite, built from the very notification the Booking app queued.
    request = NotifyRequest.model_validate(_outbox_payload(database_url, booking["id"], "booking_created"))
    emailed = Calendar.from_ical(build_invite(request, "REQUEST", 0, facilitator.email)).walk("VEVENT")[0]
    for field in ("UID", "SUMMARY", "LOCATION"):
        assert str(downloaded[field]) == str(emailed[field]), field
    for field in ("DTSTART", "DTEND"):
        assert downloaded[field].dt == emailed[field].dt, field
        assert str(downloaded[field].dt.tzinfo) == "Europe/London"
    assert str(downloaded["UID"]) == f"booking-{booking['id']}@crm-booking"


def test_calendar_only_for_the_owner_and_a_secured_seat(api):
    event = create_event(api, new_facilitator(api), price=300)
    attendee = new_attendee(api)
    held = book(api, attendee, event["id"]).json()["booking"]
    detail = api.get(f"/bookings/{held['id']}", headers=attendee.headers).json()
    assert detail["calendar_ics_url"] is None and detail["google_calendar_url"] is None
    unpaid = api.get(f"/bookings/{held['id']}/calendar.ics", headers=attendee.headers)
    assert unpaid.status_code == 400 and "paid or free" in unpaid.json()["error"]
    stranger = new_attendee(api)
    assert api.get(f"/bookings/{held['id']}/calendar.ics", headers=stranger.headers).status_code == 404
    assert api.get(f"/bookings/{held['id']}/calendar.ics").status_code == 401


# --- receipts ------------------------------------------------------------------------------------


def test_paid_booking_gets_a_numbered_receipt_and_its_refund_a_credit_note(api, database_url):
    attendee = new_attendee(api, name="Ravi Kumar")
    booking = paid_booking(api, attendee, title="Yin yoga", price=499)

    listed = api.get(f"/bookings/{booking['id']}/receipts", headers=attendee.headers)
    assert listed.status_code == 200
    [receipt] = listed.json()["receipts"]
    assert re.fullmatch(r"R-\d{6}", receipt["number"]) and receipt["kind"] == "payment"
    assert receipt["amount"] == 499.0 and receipt["currency"] == "INR"
    pdf = api.get(receipt["url"], headers=attendee.headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert f"Receipt number: {receipt['number']}" in text
    assert "Wellness Bookings" in text  # the default seller name
    assert "Ravi Kumar" in text and booking["booking_reference"] in text and "Yin yoga" in text
    assert "₹499.00" in text and "GST" not in text  # no GSTIN set: no tax lines

    # The payment email links to the receipt, and that link works without signing in.
    payload = _outbox_payload(database_url, booking["id"], "payment_completed")
    emailed = urlparse(payload["receipt_url"])
    by_link = api.get(f"{emailed.path}?{emailed.query}")
    assert by_link.status_code == 200 and receipt["number"] in pdf_text(by_link.content)
    assert api.get(emailed.path, params={"token": "0" * 32}).status_code == 404

    cancelled = api.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)
    assert cancelled.status_code == 200 and cancelled.json()["refund"]["status"] == "processed"
    receipts = api.get(f"/bookings/{booking['id']}/receipts", headers=attendee.headers).json()["receipts"]
    assert [r["kind"] for r in receipts] == ["payment", "refund"]
    credit = receipts[1]
    assert re.fullmatch(r"CN-\d{6}", credit["number"]) and credit["amount"] == 499.0
    text = pdf_text(api.get(credit["url"], headers=attendee.headers).content)
    assert "Refund receipt" in text and f"Against receipt: {receipt['number']}" in text
    assert "Total refunded" in text and "₹499.00" in text


def test_receipts_are_private_and_free_bookings_have_none(api):
    attendee = new_attendee(api)
    booking = paid_booking(api, attendee, price=150)
    [receipt] = api.get(f"/bookings/{booking['id']}/receipts", headers=attendee.headers).json()["receipts"]
    stranger = new_attendee(api)
    assert api.get(f"/bookings/{booking['id']}/receipts", headers=stranger.headers).status_code == 404
    assert api.get(receipt["url"], headers=stranger.headers).status_code == 404
    assert api.get(receipt["url"]).status_code == 401
    missing = api.get(f"/bookings/{booking['id']}/receipts/R-999999", headers=attendee.headers)
    assert missing.status_code == 404
    bad = api.get(f"/bookings/{booking['id']}/receipts/nonsense", headers=attendee.headers)
    assert bad.status_code == 400

    free = book(api, attendee, create_event(api, new_facilitator(api), price=0)["id"]).json()["booking"]
    assert api.get(f"/bookings/{free['id']}/receipts", headers=attendee.headers).json() == {"receipts": []}


@dataclass
class Seller:
    client: httpx.Client
    database_url: str


@pytest.fixture(scope="module")
def gst_seller(clock_file: Path) -> Iterator[Seller]:
    """The app of a seller registered for GST, on its own database: the shared test server's
    receipt job would otherwise issue these receipts first, with its own (GST-less) seller."""
    from crm_booking.launcher import migrate
    from tests.conftest import _drop_database, _throwaway_database

    url, name = _throwaway_database("booking_gst")
    migrate(url)
    port = free_port()
    server = booking_app(database_url=url, port=port, clock_file=clock_file,
                         name="booking-app-gst", extra_env={"CRM_URL": "http://127.0.0.1:9",
                                                            "JOBS_ENABLED": "true", **SELLER_ENV})
    server.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield Seller(client, url)
    server.stop()
    engine_for(url).dispose()
    _drop_database(name)


def test_seller_with_gstin_issues_tax_invoices_with_gst_lines(gst_seller):
    api = gst_seller.client
    attendee = new_attendee(api)
    owner = new_facilitator(api, database_url=gst_seller.database_url)
    event = create_event(api, owner, price=1180)
    created = book(api, attendee, event["id"])
    pay_in_sandbox(api, created.json()["payment_url"])
    booking = created.json()["booking"]
    [receipt] = api.get(f"/bookings/{booking['id']}/receipts", headers=attendee.headers).json()["receipts"]
    text = pdf_text(api.get(receipt["url"], headers=attendee.headers).content)
    assert "Tax invoice" in text and f"Tax invoice number: {receipt['number']}" in text
    assert "Shanti Yoga Studio LLP" in text and "12 Lake Road" in text
    assert "Indiranagar, Bengaluru 560038" in text and "GSTIN: 29ABCDE1234F1Z5" in text
    # 1180 including 18% GST: 1000 taxable + 90 CGST + 90 SGST.
    assert "₹1,000.00" in text and "CGST 9%" in text and "SGST 9%" in text and "₹90.00" in text
    assert "₹1,180.00" in text and "SAC 999723" in text


# --- cover pictures, maps link, sharing ----------------------------------------------------------


def test_cover_picture_upload_resize_serve_and_remove(api):
    owner = new_facilitator(api)
    event = create_event(api, owner)
    assert event["cover_image_url"] is None and event["cover_image_alt"] is None

    # Larger than the 1 MB cap on other bodies: pictures have their own cap.
    big = picture(1000, 700, noise=True)
    assert len(big) > 1_000_000
    saved = api.put(f"/events/{event['id']}/cover", headers=owner.headers,
                    files={"image": ("mat.png", big, "image/png")},
                    data={"alt": "Yoga mats in a sunlit studio"})
    assert saved.status_code == 200, saved.text
    body = saved.json()["event"]
    assert body["cover_image_alt"] == "Yoga mats in a sunlit studio"
    url = urlparse(body["cover_image_url"])
    large = api.get(url.path)
    assert large.status_code == 200 and large.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(large.content)).size == (1200, 630)
    card = api.get(url.path.replace(".jpg", "-card.jpg"))
    assert Image.open(io.BytesIO(card.content)).size == (600, 315)
    assert api.get(f"/events/{event['id']}").json()["cover_image_url"] == body["cover_image_url"]

    removed = api.delete(f"/events/{event['id']}/cover", headers=owner.headers)
    assert removed.status_code == 200 and removed.json()["event"]["cover_image_url"] is None
    assert api.get(url.path).status_code == 404  # the files went with it


def test_cover_picture_is_checked(api):
    owner = new_facilitator(api)
    event = create_event(api, owner)

    def upload(data: bytes, alt: str = "A calm room", who: Account = owner) -> httpx.Response:
        return api.put(f"/events/{event['id']}/cover", headers=who.headers,
                       files={"image": ("x", data, "application/octet-stream")}, data={"alt": alt})

    not_image = upload(b"%PDF-1.4 definitely not a picture")
    assert not_image.status_code == 400 and "JPEG, PNG or WebP" in not_image.json()["details"]["image"]
    tiny = upload(picture(200, 100))
    assert tiny.status_code == 400 and "at least 400x210" in tiny.json()["details"]["image"]
    gif = upload(picture(800, 600, fmt="GIF"))
    assert gif.status_code == 400 and "image" in gif.json()["details"]
    no_alt = upload(picture(), alt="  ")
    assert no_alt.status_code == 400 and "alt" in no_alt.json()["details"]
    assert upload(picture(), who=new_facilitator(api)).status_code == 403
    assert api.get(f"/events/{event['id']}").json()["cover_image_url"] is None  # nothing stored
    assert api.get("/media/covers/..%2f..%2fsettings.py").status_code == 404


def test_map_link_for_a_physical_place_only(api):
    owner = new_facilitator(api)
    studio = create_event(api, owner, location="Studio A, 100 Feet Road, Indiranagar")
    map_url = urlparse(studio["map_url"])
    assert map_url.netloc == "www.google.com" and map_url.path == "/maps/search/"
    assert parse_qs(map_url.query) == {"api": ["1"], "query": ["Studio A, 100 Feet Road, Indiranagar"]}
    online = create_event(api, owner, location=None, virtual_link="https://meet.example.com/x")
    assert online["map_url"] is None


def _meta(page: str, key: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', page)
    return match.group(1) if match else None


def test_event_page_serves_open_graph_tags_without_javascript(api):
    owner = new_facilitator(api)
    event = create_event(api, owner, title='Breathwork <script>alert("x")</script> & rest',
                         description="Slow breathing.\n\nFor everyone.")
    page = api.get(f"/app/events/{event['id']}", headers={"User-Agent": "facebookexternalhit/1.1"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>alert" not in html  # the title is escaped
    assert _meta(html, "og:title") == "Breathwork &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; rest"
    assert "Slow breathing. For everyone." in (_meta(html, "og:description") or "")
    assert _meta(html, "og:url") == f"{api.base_url}/app/events/{event['id']}"
    assert _meta(html, "og:image") == f"{api.base_url}/app/og-image.png"  # no cover: the site's
    assert _meta(html, "twitter:card") == "summary_large_image"
    assert api.get("/app/og-image.png").status_code == 200

    api.put(f"/events/{event['id']}/cover", headers=owner.headers,
            files={"image": ("c.png", picture(), "image/png")}, data={"alt": "A candle-lit room"})
    html = api.get(f"/app/events/{event['id']}/").text
    assert _meta(html, "og:image") == api.get(f"/events/{event['id']}").json()["cover_image_url"]
    assert _meta(html, "og:image:alt") == "A candle-lit room"

    unknown = api.get("/app/events/999999999")
    assert unknown.status_code == 200 and _meta(unknown.text, "og:title") is None


def test_favicon_logo_and_sharing_image_are_served(api):
    icon = api.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert Image.open(io.BytesIO(icon.content)).format == "ICO"
    for path in ("/app/logo.svg", "/app/logo.png", "/app/og-image.png"):
        assert api.get(path).status_code == 200, path
    assert Image.open(io.BytesIO(api.get("/app/og-image.png").content)).size == (1200, 630)


def test_receipt_numbers_have_no_gaps_and_no_payment_gets_two(api, database_url):
    """Several issuers at once (this process's threads and the server's job): each captured
    payment gets exactly one receipt, and each series counts 1, 2, 3 ... without a gap."""
    from concurrent.futures import ThreadPoolExecutor

    from crm_booking.services import receipts

    attendee = new_attendee(api)
    for _ in range(6):
        paid_booking(api, attendee, price=200)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: receipts.issue_due(), range(8)))
    with engine_for(database_url).connect() as connection:
        unreceipted = connection.execute(sa.text(
            "SELECT count(*) FROM payments p LEFT JOIN receipts r ON r.payment_row_id = p.id "
            "WHERE p.status = 'captured' AND p.amount > 0 AND r.id IS NULL")).scalar_one()
        per_payment = connection.execute(sa.text(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM receipts WHERE payment_row_id IS NOT NULL "
            "GROUP BY payment_row_id) counts")).scalar_one()
        for series in ("R", "CN"):
            numbers = connection.execute(sa.text(
                "SELECT sequence FROM receipts WHERE series = :s ORDER BY sequence"), {"s": series}).scalars().all()
            assert numbers == list(range(1, len(numbers) + 1)), series
            last = connection.execute(sa.text(
                "SELECT last_number FROM receipt_counters WHERE series = :s"), {"s": series}).scalar_one()
            assert last == len(numbers)
    assert unreceipted == 0 and per_payment == 1
