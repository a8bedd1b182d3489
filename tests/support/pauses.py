"""The test side of `crm_booking.pause`: a loopback barrier that holds armed pause points.

    with barrier.hold("cancel_event.bookings_locked") as held:
        start the request that reaches the point (in a thread)
        held.reached.wait(...)   # that transaction is now paused at the point
        ... run the other transaction ...
    # leaving the block releases the paused request
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Held:
    name: str
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class HeldEvery:
    """Every request that reaches `name` while armed is held; `arrived` counts them."""

    name: str
    arrived: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)
    release: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.arrived >= count, timeout)


class Barrier:
    def __init__(self) -> None:
        self._armed: dict[str, Held] = {}
        self._every: dict[str, HeldEvery] = {}
        self._lock = threading.Lock()
        barrier = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                name = self.rfile.readline().decode().strip()
                with barrier._lock:
                    held = barrier._armed.pop(name, None)  # each arming holds one request
                    every = barrier._every.get(name)
                if held is not None:
                    held.reached.set()
                    held.release.wait(120)
                elif every is not None:
                    with every.changed:
                        every.arrived += 1
                        every.changed.notify_all()
                    every.release.wait(120)
                self.wfile.write(b"g")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> Barrier:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            for held in self._armed.values():
                held.release.set()
            for every in self._every.values():
                every.release.set()
        self._server.shutdown()
        self._server.server_close()

    def hold(self, name: str) -> AbstractContextManager[Held]:
        """The first request that reaches `name` is held until the block ends."""
        return self._arming(self._armed, Held(name))

    def hold_every(self, name: str) -> AbstractContextManager[HeldEvery]:
        """Every request that reaches `name` is held until the block ends."""
        return self._arming(self._every, HeldEvery(name))

    @contextmanager
    def _arming(self, table: dict[str, Any], held: Held | HeldEvery) -> Iterator[Any]:
        with self._lock:
            table[held.name] = held
        try:
            yield held
        finally:
            with self._lock:
                table.pop(held.name, None)
            held.release.set()
