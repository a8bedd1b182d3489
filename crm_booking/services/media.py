"""Event cover pictures: checked, resized with Pillow and stored under MEDIA_DIR.

Every upload is re-encoded as JPEG in two sizes: 1200x630 (the event page and the Open Graph
image that share links unfurl with; 1.91:1 is what the big sites crop to) and 600x315 (cards).
Re-encoding drops whatever else the file carried (EXIF location, scripts in odd formats), and
each upload gets a new random name, so a changed picture is never served from a stale cache.
"""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from crm_booking import clock
from crm_booking.db import read_session, transaction
from crm_booking.errors import Forbidden, ValidationFailed
from crm_booking.models import Event, Role, User
from crm_booking.settings import get_settings

LARGE = (1200, 630)
CARD = (600, 315)
MIN_SIZE = (400, 210)
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding them
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
STORED_NAME = re.compile(r"[a-f0-9]{32}\.jpg")
COVER_URL_PREFIX = "/media/covers/"


def covers_dir() -> Path:
    folder = Path(get_settings().MEDIA_DIR) / "covers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def card_name(name: str) -> str:
    return name.removesuffix(".jpg") + "-card.jpg"


def is_stored_cover(name: str) -> bool:
    return bool(STORED_NAME.fullmatch(name)) and (covers_dir() / name).is_file()


def cover_url(name: str | None, *, card: bool = False) -> str | None:
    if not name:
        return None
    return COVER_URL_PREFIX + (card_name(name) if card else name)


def stored_file(file_name: str) -> Path | None:
    """The file behind a /media/covers/ URL, or None (no path tricks: names are checked)."""
    stem = file_name.removesuffix("-card.jpg").removesuffix(".jpg") + ".jpg"
    if not STORED_NAME.fullmatch(stem) or file_name not in (stem, card_name(stem)):
        return None
    path = covers_dir() / file_name
    return path if path.is_file() else None


def _problem(message: str) -> ValidationFailed:
    return ValidationFailed({"image": message})


def _open(data: bytes) -> Image.Image:
    if not data:
        raise _problem("Choose a picture to upload")
    if len(data) > get_settings().MAX_UPLOAD_BYTES:
        raise _problem(f"The picture must be at most {get_settings().MAX_UPLOAD_BYTES // 1_000_000} MB")
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError) as exc:
        raise _problem("Use a JPEG, PNG or WebP picture") from exc
    if image.format not in ACCEPTED_FORMATS:
        raise _problem("Use a JPEG, PNG or WebP picture")
    if image.width * image.height > MAX_PIXELS:
        raise _problem("The picture has too many pixels")
    if image.width < MIN_SIZE[0] or image.height < MIN_SIZE[1]:
        raise _problem(f"The picture must be at least {MIN_SIZE[0]}x{MIN_SIZE[1]} pixels")
    try:
        image.load()
    except (OSError, Image.DecompressionBombError) as exc:
        raise _problem("The picture could not be read") from exc
    return image


def _jpeg(image: Image.Image, size: tuple[int, int]) -> bytes:
    fitted = ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def store_cover(data: bytes) -> str:
    """Check, resize and store an uploaded picture; returns its stored name."""
    image = ImageOps.exif_transpose(_open(data))  # phones store portrait shots rotated
    if image.mode != "RGB":
        image = image.convert("RGBA").convert("RGB") if "A" in image.getbands() else image.convert("RGB")
    name = secrets.token_hex(16) + ".jpg"
    folder = covers_dir()
    (folder / card_name(name)).write_bytes(_jpeg(image, CARD))
    (folder / name).write_bytes(_jpeg(image, LARGE))  # written last: is_stored_cover checks it
    return name


def store_cover_as(*, actor_id: int, data: bytes) -> str:
    """The event form's upload, before the event is saved: facilitators (and admins) only."""
    with read_session() as session:
        actor = session.get(User, actor_id)
    if actor is None or actor.role not in (Role.FACILITATOR.value, Role.ADMIN.value):
        raise Forbidden("Only facilitators can upload cover pictures")
    return store_cover(data)


def delete_files(name: str | None) -> None:
    if not name or not STORED_NAME.fullmatch(name):
        return
    for file_name in (name, card_name(name)):
        (covers_dir() / file_name).unlink(missing_ok=True)


def set_cover(*, actor_id: int, event_id: int, data: bytes, alt: str | None) -> Event:
    """Replace (or add) an event's cover picture; the old files go once the change is saved."""
    from crm_booking.services import events

    events.check_can_manage(actor_id=actor_id, event_id=event_id)
    alt_text = (alt or "").strip()
    if not alt_text:
        raise ValidationFailed({"alt": "Describe the picture for people who cannot see it"})
    if len(alt_text) > 300:
        raise ValidationFailed({"alt": "Must be at most 300 characters"})
    name = store_cover(data)  # outside the transaction: no lock held while resizing
    try:
        with transaction() as session:
            event = events.lock_managed_event(session, actor_id=actor_id, event_id=event_id)
            previous = event.cover_image
            event.cover_image, event.cover_image_alt = name, alt_text
            event.updated_at = clock.now()
            session.add(event)
    except Exception:
        delete_files(name)
        raise
    if previous != name:
        delete_files(previous)
    return event


def remove_cover(*, actor_id: int, event_id: int) -> Event:
    from crm_booking.services import events

    with transaction() as session:
        event = events.lock_managed_event(session, actor_id=actor_id, event_id=event_id)
        previous = event.cover_image
        event.cover_image = event.cover_image_alt = None
        event.updated_at = clock.now()
        session.add(event)
    delete_files(previous)
    return event
