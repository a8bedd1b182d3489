"""The one clock of the app, so tests can move time.

In-process tests call `set_offset`. For a server started by the tests, the variable
`CRM_BOOKING_CLOCK_FILE` names a file holding an offset in seconds; the tests rewrite it to
move the server's clock. A line `@<ISO instant>` instead stops the server's clock at that
instant (tests of boundaries exact to the second). It is ignored when APP_ENV=production.
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
_file_cache: tuple[tuple[int, int, int], timedelta | datetime] = ((-1, -1, -1), timedelta(0))


def _file_setting() -> timedelta | datetime:
    """The clock file's offset, or the instant it stops the clock at."""
    global _file_cache
    if _clock_file is None:
        return timedelta(0)
    try:
        stat = _clock_file.stat()
    except FileNotFoundError:
        return timedelta(0)
    # Size and inode too: a rewrite within the filesystem's mtime tick keeps the mtime.
    version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if version != _file_cache[0]:
        text = _clock_file.read_text().strip()
        if not text:
            # Caught between the truncation and the write of a rewrite: keep the last
            # setting and read again next time (caching "0" here lost the jump for good).
            return _file_cache[1]
        setting: timedelta | datetime = (
            as_utc(datetime.fromisoformat(text[1:])) if text.startswith("@")
            else timedelta(seconds=float(text)))
        _file_cache = (version, setting)
    return _file_cache[1]


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    setting = _file_setting()
    if isinstance(setting, datetime):
        return setting + _offset
    return datetime.now(UTC) + _offset + setting


def setting() -> tuple[object, timedelta]:
    """What moves this clock away from the system's (a cache keyed on it forgets a jump)."""
    return _file_setting(), _offset


def set_offset(delta: timedelta) -> None:
    global _offset
    _offset = delta


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
