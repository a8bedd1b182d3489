"""A worker's short-lived memory of the anonymous events list (the REST answer, serialised
once, and the rows behind the web app's home page, shared by every session).

The public list is the page a crowd hits when a popular event opens; each answer costs an ORM
query and a validation pass, and it is the same for everyone who is not signed in. An answer is
reused while (a) it is younger than PUBLIC_EVENTS_CACHE_SECONDS, (b) this worker has finished no
transaction since (every booking, cancellation or event change made through this worker clears
it at once) and (c) the app's clock has not been moved. Another worker's writes show after at
most PUBLIC_EVENTS_CACHE_SECONDS: seats_available on a public listing may lag that long, while
the booking itself always checks the seat under the row lock (docs/decisions/benchmark.md).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from crm_booking import clock
from crm_booking.db import write_generation
from crm_booking.settings import get_settings

MAX_ENTRIES = 256  # distinct (filter, page) combinations kept per worker

T = TypeVar("T")

_entries: OrderedDict[Hashable, tuple[float, int, object, Any]] = OrderedDict()
_lock = threading.Lock()  # misses are produced on the thread pool


def _stamp() -> tuple[float, int, object]:
    """What an entry is checked against: now, this worker's write generation, the clock setting."""
    return time.monotonic(), write_generation(), clock.setting()


def _fresh(key: Hashable, stamp: tuple[float, int, object]) -> tuple[bool, Any]:
    now, generation, moved = stamp
    found = _entries.get(key)
    if found is not None and found[0] > now and found[1] == generation and found[2] == moved:
        return True, found[3]
    return False, None


def cached(key: Hashable, produce: Callable[[], T]) -> T:
    """The stored answer for `key` while it is fresh, else `produce()` (and store it). Stored
    values are shared between requests and sessions: callers must not change them."""
    ttl = get_settings().PUBLIC_EVENTS_CACHE_SECONDS
    if ttl <= 0:
        return produce()
    stamp = _stamp()
    hit, body = _fresh(key, stamp)
    if hit:
        return body  # type: ignore[no-any-return]
    body = produce()
    now, generation, moved = stamp
    # Stamped with the generation seen before the read: a write finishing meanwhile expires it.
    with _lock:
        _entries[key] = (now + ttl, generation, moved, body)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return body


def lookup(key: Hashable) -> Any | None:
    """The stored answer if fresh, without producing one (for the event loop: no database)."""
    if get_settings().PUBLIC_EVENTS_CACHE_SECONDS <= 0:
        return None
    return _fresh(key, _stamp())[1]
