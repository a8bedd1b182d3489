"""Test-only pause points, to force an interleaving of two transactions deterministically.

When `CRM_BOOKING_PAUSE_ADDRESS` (host:port on loopback) is set and APP_ENV is not production,
`point(name)` tells a barrier run by the tests that this request reached `name` and waits for
the barrier's answer: the test holds an armed point until the other transaction has run, and
answers every other point at once. Unset (always in production) it does nothing.
"""

from __future__ import annotations

import os
import socket

_ADDRESS = os.environ.get("CRM_BOOKING_PAUSE_ADDRESS", "")
_ENABLED = bool(_ADDRESS) and os.environ.get("APP_ENV") != "production"


def point(name: str) -> None:
    if not _ENABLED:
        return
    host, _, port = _ADDRESS.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=120) as connection:
        connection.sendall(name.encode() + b"\n")
        connection.recv(1)  # blocks until the test releases this point
