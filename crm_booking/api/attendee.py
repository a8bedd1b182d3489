"""What attendees take away and share: calendar files, PDF receipts, event cover pictures,
the favicon, and event pages that unfurl when shared (see docs/decisions/attendee-capabilities.md)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from crm_booking.api import schemas
from crm_booking.api.deps import CurrentUser, DownloadUser
from crm_booking.errors import NotFound
from crm_booking.launcher import BUILD_DIR
from crm_booking.services import calendar, events, media, receipts, share
from crm_booking.services.views import event_detail, utc_timestamp
from crm_booking.settings import PROJECT_ROOT, get_settings

router = APIRouter()
ASSETS = PROJECT_ROOT / "assets"
PRIVATE = {"Cache-Control": "private, no-store"}
RECEIPT_NUMBER = r"^(R|CN)-\d{6}$"
BookingId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


def _download(body: bytes, media_type: str, file_name: str) -> Response:
    return Response(body, media_type=media_type, headers={
        **PRIVATE, "Content-Disposition": f'attachment; filename="{file_name}"'})


# --- add to calendar --------------------------------------------------------------------------


@router.get("/bookings/{booking_id}/calendar.ics", tags=["bookings"],
            response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
def booking_calendar(booking_id: BookingId, user: DownloadUser) -> Response:
    """The booking as an iCalendar file (same UID as the emailed invite). Bearer token, or
    the web session cookie for links in the web UI."""
    file_name, body = calendar.booking_calendar(user_id=user.id, booking_id=booking_id)  # type: ignore[arg-type]
    return _download(body, "text/calendar; charset=utf-8", file_name)


# --- receipts ---------------------------------------------------------------------------------


def _receipt_body(summary: receipts.ReceiptSummary) -> dict:  # type: ignore[type-arg]
    return {"number": summary.number, "kind": summary.kind, "amount": float(summary.amount),
            "currency": summary.currency, "issued_at": utc_timestamp(summary.issued_at),
            "url": f"/bookings/{summary.booking_id}/receipts/{summary.number}"}


@router.get("/bookings/{booking_id}/receipts", tags=["bookings"], response_model=schemas.ReceiptList)
def booking_receipts(booking_id: BookingId, user: DownloadUser) -> dict:  # type: ignore[type-arg]
    """Numbered receipts of the booking: one per payment, one credit note per refund."""
    found = receipts.booking_receipts(user_id=user.id, booking_id=booking_id)  # type: ignore[arg-type]
    return {"receipts": [_receipt_body(r) for r in found]}


@router.get("/bookings/{booking_id}/receipts/{number}", tags=["bookings"],
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def booking_receipt_pdf(booking_id: BookingId,
                        number: Annotated[str, PathParam(pattern=RECEIPT_NUMBER)],
                        user: DownloadUser) -> Response:
    file_name, body = receipts.receipt_pdf(user_id=user.id, booking_id=booking_id, number=number)  # type: ignore[arg-type]
    return _download(body, "application/pdf", file_name)


@router.get("/receipts/{reference}", tags=["bookings"], response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def emailed_receipt(reference: Annotated[str, PathParam(max_length=32)],
                    token: Annotated[str, Query(max_length=64)] = "") -> Response:
    """The link in the payment (receipt) email: works without signing in, for that booking."""
    file_name, body = receipts.receipt_pdf_by_link(reference=reference, token=token)
    return _download(body, "application/pdf", file_name)


# --- cover pictures ---------------------------------------------------------------------------


@router.put("/events/{event_id}/cover", tags=["events"], response_model=schemas.EventSaved)
async def upload_cover(
    event_id: BookingId, user: CurrentUser,
    image: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP, at least 400x210")] = None,
    alt: Annotated[str, Form(max_length=300, description="What the picture shows")] = "",
) -> dict:  # type: ignore[type-arg]
    # Both parts are checked by the service, after the permission check (403 before 400).
    data = await image.read(get_settings().MAX_UPLOAD_BYTES + 1) if image is not None else b""
    await run_in_threadpool(media.set_cover, actor_id=user.id, event_id=event_id,  # type: ignore[arg-type]
                            data=data, alt=alt)
    row = events.get_event(event_id)
    return {"message": "Cover picture saved",
            "event": event_detail(row.event, row.facilitator, row.held, row.waiting,
                                  show_link=True)}


@router.delete("/events/{event_id}/cover", tags=["events"], response_model=schemas.EventSaved)
def delete_cover(event_id: BookingId, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    media.remove_cover(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    row = events.get_event(event_id)
    return {"message": "Cover picture removed",
            "event": event_detail(row.event, row.facilitator, row.held, row.waiting,
                                  show_link=True)}


@router.get("/media/covers/{file_name}", include_in_schema=False)
def cover_file(file_name: str) -> FileResponse:
    path = media.stored_file(file_name)
    if path is None:
        raise NotFound()
    # Names are never reused (a new upload gets a new name), so the file may be cached forever.
    return FileResponse(path, media_type="image/jpeg",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})


# --- site icons and shared event pages ---------------------------------------------------------


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    return FileResponse(ASSETS / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


@lru_cache(maxsize=4)
def _page_shell(path: Path, modified: float) -> str:
    return path.read_text(encoding="utf-8")


def _spa_shell() -> str:
    """The HTML the UI build serves for /app/events/<id> (its single-page fallback)."""
    path = BUILD_DIR / "app" / "404.html"
    if not path.is_file():  # no UI build (API-only use): crawlers still get the tags
        return "<!DOCTYPE html><html><head></head><body></body></html>"
    return _page_shell(path, path.stat().st_mtime)


def _with_share_tags(page: str, card: share.ShareCard) -> str:
    import html

    page = re.sub(r"<title>.*?</title>", "", page, count=1, flags=re.S)
    head = f"<title>{html.escape(card.title)} · {share.SITE_NAME}</title>" + share.head_tags(card)
    return page.replace("<head>", "<head>" + head, 1)


@router.get("/app/events/{event_id}", include_in_schema=False, response_class=HTMLResponse)
@router.get("/app/events/{event_id}/", include_in_schema=False, response_class=HTMLResponse)
def shared_event_page(event_id: str) -> HTMLResponse:
    """The event page, with its Open Graph tags written in by the server, so link previews work
    for crawlers that do not run JavaScript. The UI takes over in the browser as before."""
    page = _spa_shell()
    card = share.event_card(int(event_id)) if event_id.isdigit() and len(event_id) < 10 else None
    if card is not None:
        page = _with_share_tags(page, card)
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})
