"""Issue 15, capabilities attendees expect, in a real browser at desktop and phone width with
axe: search with the filters in the address, times in the viewer's zone, add to calendar,
receipts, cover pictures, the maps link, and the site's icons."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from icalendar import Calendar
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import DESKTOP, App, _point_ui_at
from tests.browser.flows import facilitator, paid_event, sign_in, unique
from tests.browser.test_facilitator import pay_with_sandbox
from tests.browser.ui import visit_checked, wait_ready
from tests.support.api import PASSWORD, login


@pytest.fixture
def london_page(browser: Browser, ui_app: App) -> Iterator[Page]:
    """A viewer whose computer is set to London time."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True,  # type: ignore[arg-type]
                                  base_url=ui_app.url, timezone_id="Europe/London")
    context.route("**/assets/reflex-env-*.js", _point_ui_at(ui_app.port))  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def test_search_and_filters_live_in_the_address(page: Page, ui_app: App) -> None:
    word = unique("kirtan").split("-")[1]
    owner = facilitator(ui_app.client, name="Lakshmi Rao")
    session = paid_event(ui_app.client, owner, title=f"Kirtan evening {word}")
    workshop = paid_event(ui_app.client, owner, title="Chanting workshop", event_type="workshop",
                          description=f"Learn the {word} call and response.")

    page.goto("/app/")
    wait_ready(page)
    page.get_by_role("searchbox", name="Search events").fill(word)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"/app/?\?q={word}$"))
    cards = page.locator(".rt-Card")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text=session["title"])).to_have_count(1)
    expect(cards.filter(has_text=workshop["title"])).to_have_count(1)

    page.get_by_label("Type").select_option("workshop")
    expect(page).to_have_url(re.compile(rf"\?q={word}&type=workshop$"))
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Chanting workshop")
    visit_checked(page, "17-search-filtered")

    # The back button returns to the previous filters and their results.
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/app/?\?q={word}$"))
    expect(cards).to_have_count(2)
    expect(page.get_by_label("Type")).to_have_value("")

    # A shared address opens with its filters filled in.
    page.goto(f"/app/?q={word}&type=session")
    wait_ready(page)
    expect(page.get_by_role("searchbox", name="Search events")).to_have_value(word)
    expect(page.get_by_label("Type")).to_have_value("session")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(session["title"])

    page.get_by_role("button", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/app/?$"))
    expect(page.get_by_role("searchbox", name="Search events")).to_have_value("")


def test_online_event_times_also_in_the_viewers_zone_and_map_link(london_page: Page,
                                                                  ui_app: App) -> None:
    page = london_page
    owner = facilitator(ui_app.client)
    start = (datetime.now(UTC) + timedelta(days=9)).replace(hour=14, minute=30, second=0,
                                                           microsecond=0, tzinfo=None)
    online = paid_event(ui_app.client, owner, title=unique("Online pranayama"), location=None,
                        virtual_link="https://meet.example.com/pranayama",
                        start_datetime=start.isoformat(),
                        end_datetime=(start + timedelta(hours=1)).isoformat())
    in_studio = paid_event(ui_app.client, owner, title=unique("Studio hatha"))

    page.goto(f"/app/?q={online['title']}")
    wait_ready(page)
    card = page.locator(".rt-Card").filter(has_text=online["title"])
    expect(card).to_contain_text("2:30 PM")  # the event's own time, IST
    # 14:30 IST is 09:00 in London in winter (GMT) and 10:00 in summer (BST).
    expect(card.locator(".viewer-time")).to_have_text(re.compile(r"Your time: .*(9|10):00 AM (GMT|BST)"))

    page.goto(f"/app/events/{online['id']}")
    wait_ready(page)
    expect(page.locator("main .viewer-time")).to_contain_text("Your time:")
    expect(page.locator("#map-link")).to_have_count(0)  # online: no place to map

    page.goto(f"/app/events/{in_studio['id']}")
    wait_ready(page)
    expect(page.locator("main .viewer-time")).to_have_count(0)  # a place: its own time only
    link = page.get_by_role("link", name="Open in Google Maps")
    query = parse_qs(urlparse(link.get_attribute("href") or "").query)
    assert query == {"api": ["1"], "query": ["Studio A, Indiranagar"]}
    expect(link).to_have_attribute("target", "_blank")
    visit_checked(page, "18-event-map-link")


def test_confirmation_page_adds_to_calendar_and_gives_the_receipt(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner, title=unique("Sunrise yoga"), price=650.0)
    email = f"{unique('attendee')}@example.com"
    ui_app.client.post("/auth/register", json={"email": email, "password": PASSWORD,
                                               "name": "Anita Desai"})
    attendee = login(ui_app.client, email)
    created = ui_app.client.post("/bookings", json={"event_id": event["id"]}, headers=attendee.headers)
    booking = created.json()["booking"]
    pay_with_sandbox(ui_app.client, booking["booking_reference"])

    sign_in(page, email, next_path=f"/booking/{booking['booking_reference']}")
    wait_ready(page)
    expect(page.locator("#payment-status")).to_have_text("Paid")
    expect(page.get_by_role("heading", name="Add to calendar")).to_be_visible()

    with page.expect_download() as ics_info:
        page.get_by_role("link", name="Download .ics (Apple, Outlook)").click()
    ics = Calendar.from_ical(Path(ics_info.value.path()).read_bytes()).walk("VEVENT")[0]
    assert str(ics["UID"]) == f"booking-{booking['id']}@crm-booking"
    assert str(ics["SUMMARY"]) == event["title"]

    google = page.get_by_role("link", name="Google Calendar")
    expect(google).to_have_attribute("href", re.compile(r"^https://calendar\.google\.com/calendar/render\?"))
    expect(google).to_have_attribute("target", "_blank")

    receipt_link = page.locator("#receipts").get_by_role("link")
    expect(receipt_link).to_have_text(re.compile(r"Receipt R-\d{6} \(PDF, ₹650\)"))
    number = re.search(r"R-\d{6}", receipt_link.inner_text()).group(0)  # type: ignore[union-attr]
    with page.expect_download() as pdf_info:
        receipt_link.click()
    text = PdfReader(pdf_info.value.path()).pages[0].extract_text()
    assert f"Receipt number: {number}" in text and "Anita Desai" in text and "₹650.00" in text
    visit_checked(page, "05-confirmation-paid")


def test_facilitator_adds_a_cover_picture_shown_on_cards_and_the_event_page(
        page: Page, ui_app: App, tmp_path: Path) -> None:
    owner = facilitator(ui_app.client, name="Asha Facilitator")
    picture = tmp_path / "studio.png"
    dusk = Image.merge("RGB", [Image.linear_gradient("L").resize((1600, 1000)).point(lambda v: 60 + v // 2),
                               Image.new("L", (1600, 1000), 90),
                               Image.linear_gradient("L").resize((1600, 1000)).point(lambda v: 150 - v // 3)])
    ImageDraw.Draw(dusk).ellipse((1050, 180, 1350, 480), fill=(250, 200, 120))  # a candle-lit moon
    dusk.save(picture)
    sign_in(page, owner.email, next_path="/dashboard")
    wait_ready(page)

    title = unique("Candlelight yin")
    page.get_by_role("button", name="New event").click()
    dialog = page.get_by_role("dialog")
    start = (datetime.now(UTC) + timedelta(days=15)).strftime("%Y-%m-%dT19:00")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_label("Starts").fill(start)
    dialog.get_by_label("Ends").fill(start.replace("T19:00", "T20:00"))
    dialog.get_by_label("Location").fill("Studio C, Jayanagar")
    dialog.locator("input[type=file]").set_input_files(str(picture))
    expect(dialog.get_by_role("img", name="Preview of the cover picture")).to_be_visible()
    dialog.get_by_role("button", name="Save event").click()
    expect(dialog.locator("#event-cover_image_alt-error")).to_have_text(
        "Describe the picture for people who cannot see it")
    dialog.get_by_label("Picture description (alt text)").fill("Candles around yoga mats")
    dialog.get_by_role("button", name="Save event").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.goto(f"/app/?q={title}")
    wait_ready(page)
    cover = page.locator(".rt-Card").filter(has_text=title).get_by_role(
        "img", name="Candles around yoga mats")
    expect(cover).to_be_visible()
    assert re.fullmatch(r"/media/covers/[a-f0-9]{32}-card\.jpg", cover.get_attribute("src") or "")
    expect(cover).to_have_js_property("naturalWidth", 600)  # the card-size copy loaded
    visit_checked(page, "01-home")

    page.locator(".rt-Card").filter(has_text=title).get_by_role("link", name=title).click()
    wait_ready(page)
    large = page.locator("main").get_by_role("img", name="Candles around yoga mats")
    expect(large).to_have_js_property("naturalWidth", 1200)
    visit_checked(page, "02-event")


def test_site_icons(page: Page, ui_app: App) -> None:
    page.goto("/app/")
    wait_ready(page)
    expect(page.locator('link[rel="icon"][href="/favicon.ico"]')).to_have_count(1)
    expect(page.locator("header img[src='/app/logo.svg']")).to_be_visible()
    icon = page.request.get("/favicon.ico")
    assert icon.ok and Image.open(io.BytesIO(icon.body())).format == "ICO"
