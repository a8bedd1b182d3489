"""The door: an attendee's ticket QR on the booking page, and the facilitator's check-in page on
a phone, with a typed reference and the QR image fed to the page's scanner (html5-qrcode)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CHROMIUM_ARGS, PHONE, App, new_context
from tests.browser.flows import facilitator, paid_event, sign_in, unique
from tests.browser.test_facilitator import pay_with_sandbox
from tests.browser.ui import SCREENSHOTS, visit_checked, wait_ready
from tests.support.api import Account, new_attendee


def _book(client: httpx.Client, event_id: int, name: str, *, pay: bool) -> tuple[Account, dict[str, Any]]:
    attendee = new_attendee(client, name=name)
    created = client.post("/bookings", json={"event_id": event_id}, headers=attendee.headers)
    assert created.status_code == 201, created.text
    booking = created.json()["booking"]
    if pay:
        pay_with_sandbox(client, booking["booking_reference"])
    return attendee, booking


def _result(page: Page) -> Any:
    return page.locator("#checkin-result")


def _type_code(page: Page, code: str) -> None:
    page.get_by_label("Ticket code or booking reference").fill(code)
    page.get_by_role("button", name="Check in", exact=True).click()


def test_ticket_qr_and_check_in_by_code_and_scan(page: Page, browser: Browser, ui_app: App) -> None:
    client = ui_app.client
    owner = facilitator(client, name="Asha Facilitator")
    event = paid_event(client, owner, title=unique("Door Yoga"))
    other = paid_event(client, owner, title=unique("Other Yoga"), price=0)
    _, typed = _book(client, event["id"], "Tara Typed", pay=True)
    scanned_account, scanned = _book(client, event["id"], "Sami Scanned", pay=True)
    _, unpaid = _book(client, event["id"], "Uma Unpaid", pay=False)
    leaver, cancelled = _book(client, event["id"], "Kiran Cancelled", pay=True)
    assert client.post(f"/bookings/{cancelled['id']}/cancel",
                       headers=leaver.headers).status_code == 200
    _, elsewhere = _book(client, other["id"], "Dev Elsewhere", pay=False)

    # The attendee's booking page shows the ticket as a QR code; its picture is what we scan.
    attendee_context = new_context(browser, ui_app)
    attendee_page = attendee_context.new_page()
    sign_in(attendee_page, scanned_account.email,
            next_path=f"/booking/{scanned['booking_reference']}")
    wait_ready(attendee_page)
    qr = attendee_page.locator("#ticket-qr")
    expect(qr).to_be_visible()
    expect(attendee_page.locator("#ticket-code")).to_have_text(re.compile(r"^TK[0-9A-Z]+-[A-Z2-7]{16}$"))
    ticket_code = attendee_page.locator("#ticket-code").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    qr_png = SCREENSHOTS.parent / "ticket-qr.png"
    qr.screenshot(path=str(qr_png))
    visit_checked(attendee_page, "40-booking-ticket")
    attendee_context.close()

    # The facilitator opens the check-in page from the attendee list, on a phone.
    sign_in(page, owner.email, next_path=f"/dashboard/events/{event['id']}")
    wait_ready(page)
    page.get_by_role("link", name="Open check-in").click()
    expect(page).to_have_url(re.compile(rf"/app/dashboard/events/{event['id']}/check-in/?$"))
    wait_ready(page)
    expected = page.locator("#expected-list")
    expect(expected).to_contain_text("Tara Typed")
    expect(expected).to_contain_text("Sami Scanned")
    expect(expected).not_to_contain_text("Uma Unpaid")
    expect(expected).not_to_contain_text("Kiran Cancelled")
    visit_checked(page, "41-check-in")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]

    # Typed reference: checked in, then a second time is a clear warning with the time.
    _type_code(page, typed["booking_reference"].lower())
    expect(_result(page)).to_have_text(
        f"Tara Typed is checked in ({typed['booking_reference']}).")
    expect(page.locator("#present-list")).to_contain_text("Tara Typed")
    expect(expected).not_to_contain_text("Tara Typed")
    _type_code(page, typed["booking_reference"])
    expect(_result(page)).to_have_text(
        re.compile(r"^Second scan: Tara Typed was already checked in at \d\d:\d\d\.$"))
    expect(page.get_by_role("alert").filter(has_text="Second scan")).to_be_visible()

    # The QR picture from the booking page, fed to the page's scanner.
    page.locator("#ticket-photo").set_input_files(str(qr_png))
    expect(_result(page)).to_have_text(
        f"Sami Scanned is checked in ({scanned['booking_reference']}).")
    page.screenshot(path=str(SCREENSHOTS / "42-check-in-scanned-phone.png"), full_page=True)

    # Undo the scan: Sami is expected again.
    page.locator("#undo-last").click()
    expect(_result(page)).to_have_text("Undone: Sami Scanned is expected again.")
    expect(expected).to_contain_text("Sami Scanned")
    page.locator("#ticket-photo").set_input_files(str(qr_png))
    expect(_result(page)).to_have_text(
        f"Sami Scanned is checked in ({scanned['booking_reference']}).")

    # Unpaid, cancelled, another event, and something that is not a ticket at all.
    _type_code(page, unpaid["booking_reference"])
    expect(_result(page)).to_have_text("Do not admit: booking is not paid.")
    _type_code(page, cancelled["booking_reference"])
    expect(_result(page)).to_have_text("Do not admit: booking is cancelled.")
    _type_code(page, elsewhere["ticket_code"])
    expect(_result(page)).to_have_text(f"Wrong event: this ticket is for “{other['title']}”.")
    _type_code(page, "hello")
    expect(_result(page)).to_have_text("No booking found for “hello”.")
    expect(page.locator("#present-list")).to_contain_text("Sami Scanned")
    visit_checked(page, "43-check-in-warnings")
    assert ticket_code.startswith("TK")

    # Attendance shows in the attendee list and in its CSV.
    page.get_by_role("link", name="Attendees").click()
    wait_ready(page)
    row = page.get_by_role("row").filter(has_text="Sami Scanned")
    expect(row).to_contain_text(re.compile(r"Checked in \d\d:\d\d"))
    expect(page.get_by_role("row").filter(has_text="Uma Unpaid")).to_contain_text("—")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(open(download_info.value.path(), encoding="utf-8").read())))
    assert rows[0][-1] == "Checked in at (UTC)"
    attendance = {r[0]: r[-1] for r in rows[1:]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", attendance["Sami Scanned"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", attendance["Tara Typed"])
    assert attendance["Uma Unpaid"] == "" and attendance["Kiran Cancelled"] == ""



def _camera_feed(code: str, path: Path) -> Path:
    """A y4m video of the ticket's QR code, which Chromium plays as its (fake) camera."""
    import segno
    from PIL import Image

    qr_png = path.with_suffix(".png")
    segno.make(code, error="m").save(str(qr_png), scale=10, border=4)
    frame = Image.new("RGB", (640, 480), "white")
    qr = Image.open(qr_png).convert("RGB").resize((360, 360), Image.Resampling.NEAREST)
    frame.paste(qr, ((640 - 360) // 2, (480 - 360) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    planes = y.tobytes() + cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes()
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            out.write(b"FRAME\n" + planes)
    return path


def test_check_in_with_the_phone_camera(browser: Browser, ui_app: App, tmp_path: Path) -> None:
    client = ui_app.client
    owner = facilitator(client, name="Asha Facilitator")
    event = paid_event(client, owner, title=unique("Camera Yoga"), price=0)
    _, booking = _book(client, event["id"], "Cam Attendee", pay=False)  # free: secured at once
    feed = _camera_feed(booking["ticket_code"], tmp_path / "ticket.y4m")
    camera_browser = browser.browser_type.launch(
        executable_path="/usr/bin/chromium",
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={feed}"])
    try:
        context = new_context(camera_browser, ui_app)
        context.grant_permissions(["camera"])
        page = context.new_page()
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        sign_in(page, owner.email, next_path=f"/dashboard/events/{event['id']}/check-in")
        wait_ready(page)
        page.get_by_role("button", name="Scan with camera").click()
        expect(page.locator("#ticket-scanner-view video")).to_be_visible()
        expect(_result(page)).to_have_text(
            f"Cam Attendee is checked in ({booking['booking_reference']}).", timeout=30_000)
        page.get_by_role("button", name="Stop camera").click()
        expect(page.get_by_role("button", name="Scan with camera")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "47-check-in-camera-phone.png"), full_page=True)
        context.close()
    finally:
        camera_browser.close()
