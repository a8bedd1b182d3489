"""Many browser sessions at once, over Reflex's own websocket (socket.io at /_event), speaking
the protocol the compiled frontend speaks (see reflex's web/utils/state.js):

* connect with `?token=<tab token>` and the hydrate event in the socket.io CONNECT packet,
  carrying the compiled page's state hashes and schema as the browser's first hydrate does
  (the backend then sends only what differs from the defaults the page already holds);
* the server answers with state deltas and events for the client to send back (on_load);
* later events are `{token, name, payload, router_data}` emitted as "event".

A session "browses" the home page: it loads (hydrate + on_load: the events list from the
database) and then switches the event-type filter, each a round trip measured until the
home page's state delta arrives. Back to back (a stress loop) or paced like a person who
clicks every so often (`pace`).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import socketio

ROOT = "reflex___state____state"
HOME = f"{ROOT}.crm_booking___state___home____home_state"
ON_LOAD = f"{ROOT}.reflex___state____on_load_internal_state.on_load_internal"
BARE_HOME = f"{ROOT}.bare_reflex___bare_reflex____home_state"  # bench/bare_reflex
ROUTER = {"pathname": "/", "asPath": "/"}
NAMESPACE = "/_event"  # the frontend connects to ws://host/_event: path and namespace
FILTERS = ("session", "workshop", "retreat", "")
COMPILED_CONTEXT = Path(__file__).resolve().parent.parent / ".web" / "utils" / "context.jsx"


def compiled_frontend_boot() -> tuple[list[str], str] | None:
    """The app's compiled `initialStateHashes` and `stateSchema`, which the browser sends with
    its first hydrate; None without a build (then the backend sends every state in full)."""
    try:
        source = COMPILED_CONTEXT.read_text()
    except OSError:
        return None
    hashes = re.search(r"initialStateHashes = (\[.*?\])", source)
    schema = re.search(r'stateSchema = "([0-9a-f]+)"', source)
    if hashes is None or schema is None:
        return None
    return json.loads(hashes.group(1)), schema.group(1)


@dataclass
class SessionStats:
    round_trips: list[float] = field(default_factory=list)
    first_load: float | None = None
    failures: int = 0
    events_sent: int = 0


class BrowserSession:
    def __init__(self, base_url: str, home: str = HOME,
                 boot: tuple[list[str], str] | None = None) -> None:
        self.base_url = base_url
        self.home = home
        self.boot = boot
        self.token = str(uuid.uuid4())
        self.client = socketio.AsyncClient(reconnection=False)
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent = 1  # the hydrate event rides in the CONNECT packet
        self.home_view: dict[str, Any] = {}
        self.router: dict[str, Any] = dict(ROUTER)
        self.client.on("event", self._on_update, namespace=NAMESPACE)

    async def _on_update(self, update: dict[str, Any]) -> None:
        for event in update.get("events") or []:
            name = str(event.get("name", ""))
            if name == "_redirect":  # a filter change is a new address: the page navigates
                await self._navigate(str((event.get("payload") or {}).get("path", "/")))
            # Events the backend asks the page to send back (on_load handlers), not UI scripts.
            elif not name.startswith("_"):
                await self.emit(name, event.get("payload") or {})
        await self.updates.put(update)

    async def _navigate(self, address: str) -> None:
        """What the compiled frontend does on a client-side navigation: the new address's
        router data, and the page's on_load handlers through Reflex's on_load event."""
        path, _, query = address.partition("?")
        self.router = {"pathname": path or "/", "asPath": address, "query": dict(parse_qsl(query))}
        await self.emit(ON_LOAD, {})

    async def emit(self, name: str, payload: dict[str, Any]) -> None:
        self.sent += 1
        await self.client.emit("event", {"token": self.token, "name": name, "payload": payload,
                                         "router_data": self.router}, namespace=NAMESPACE)

    async def _until_home_delta(self, done: Any, timeout: float) -> None:
        """Until the home page's state, as the browser holds it (every delta applied), is
        `done`: a round trip ends when the page shows its answer, not at an interim delta."""
        deadline = time.monotonic() + timeout
        while True:
            update = await asyncio.wait_for(self.updates.get(), deadline - time.monotonic())
            home = (update.get("delta") or {}).get(self.home)
            if home is not None:
                self.home_view.update(home)
                if done(self.home_view):
                    return

    async def open_home_page(self, timeout: float = 30) -> float:
        started = time.perf_counter()
        payload: dict[str, Any] = {"hashes": self.boot[0]} if self.boot else {}
        hydrate = {"token": self.token, "name": f"{ROOT}.hydrate_and_load", "payload": payload,
                   "router_data": self.router}
        auth: dict[str, Any] = {"event": hydrate}
        if self.boot:
            auth["state_schema"] = self.boot[1]
        await self.client.connect(f"{self.base_url}?token={self.token}", transports=["websocket"],
                                  socketio_path="/_event",
                                  namespaces=[NAMESPACE],
                                  auth=auth, wait_timeout=timeout)
        await self._until_home_delta(lambda home: home.get("loading_rx_state_") is False, timeout)
        return time.perf_counter() - started

    async def filter_by(self, value: str, timeout: float = 30) -> float:
        started = time.perf_counter()
        await self.emit(f"{self.home}.set_type", {"value": value})
        # The app shows "Loading events ..." (an interim delta) before the filtered list; the
        # bare app answers with the list at once (its loading flag stays False).
        await self._until_home_delta(lambda home: home.get("filter_type_rx_state_") == value
                                     and home.get("loading_rx_state_") is False, timeout)
        return time.perf_counter() - started

    async def close(self) -> None:
        await self.client.disconnect()


async def _browse(base_url: str, seconds: float, stats: SessionStats, home: str,
                  pace: float, boot: tuple[list[str], str] | None) -> None:
    session = BrowserSession(base_url, home, boot)
    try:
        stats.first_load = await session.open_home_page()
        # Each session browses for `seconds` once its page has loaded: under a crowd the load
        # alone can take longer than a fixed window, which then measured no round trip at all.
        stop_at = time.monotonic() + seconds
        # Paced: a person clicks every `pace` seconds (the first at a random moment of the
        # first interval, so a crowd does not click in step); unpaced: the next click as soon
        # as the last answer arrived (a stress loop, no person clicks like that).
        next_click = time.monotonic() + random.uniform(0, pace)
        turn = 0
        while time.monotonic() < stop_at:
            await asyncio.sleep(max(0.0, next_click - time.monotonic()))
            stats.round_trips.append(await session.filter_by(FILTERS[turn % len(FILTERS)]))
            next_click += pace
            turn += 1
    except (TimeoutError, socketio.exceptions.SocketIOError, OSError):
        stats.failures += 1
    finally:
        stats.events_sent = session.sent
        await session.close()


@dataclass(frozen=True)
class WebResult:
    sessions: int
    events_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    load_p50_ms: float
    failures: int


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _run(base_url: str, sessions: int, seconds: float, home: str, pace: float) -> WebResult:
    all_stats = [SessionStats() for _ in range(sessions)]
    # Read once per run, not per session. The bare app has no compiled page here, so its
    # sessions hydrate without hashes (its one small state is sent in full either way).
    boot = compiled_frontend_boot() if home == HOME else None
    started = time.monotonic()
    await asyncio.gather(*(_browse(base_url, seconds, stats, home, pace, boot)
                           for stats in all_stats))
    elapsed = time.monotonic() - started
    trips = [t for s in all_stats for t in s.round_trips]
    loads = [s.first_load for s in all_stats if s.first_load is not None]
    handled = sum(s.events_sent for s in all_stats)
    return WebResult(sessions, handled / elapsed, _percentile(trips, 0.5), _percentile(trips, 0.95),
                     _percentile(trips, 0.99), statistics.median(loads) * 1000 if loads else float("nan"),
                     sum(s.failures for s in all_stats))


def browse(base_url: str, *, sessions: int, seconds: float, home: str = HOME,
           pace: float = 0.0) -> WebResult:
    return asyncio.run(_run(base_url, sessions, seconds, home, pace))
