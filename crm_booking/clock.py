"""The one clock of the app, so tests can move time.

In-process tests call `set_offset`. For a server started by the tests, the variable
`CRM_BOOKING_CLOCK_FILE` names a file holding an offset in seconds; the tests rewrite it to
move the server's clock. It is ignored when APP_ENV=production.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

_offset = timedelta(0)
_clock_file = (
    Path(os.environ["CRM_BOOKING_CLOCK_FILE"])
    if os.environ.get("CRM_BOOKING_CLOCK_FILE") and os.environ.get("APP_ENV") != "production"
    else None
)
_file_cache: tuple[float, timedelta] = (-1.0, timedelta(0))


def _file_offset() -> timedelta:
    global _file_cache
    if _clock_file is None:
        return timedelta(0)
    try:
        mtime = _clock_file.stat().st_mtime
    except FileNotFoundError:
        return timedelta(0)
    if mtime != _file_cache[0]:
        text = _clock_file.read_text().strip() or "0"
        _file_cache = (mtime, timedelta(seconds=float(text)))
    return _file_cache[1]


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC) + _offset + _file_offset()


def set_offset(delta: timedelta) -> None:
    global _offset
    _offset = delta


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
