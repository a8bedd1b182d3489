"""The Booking app with `--workers 2` and Reflex state in Redis, on its own database, delivering
to a real CRM service. Which worker answers a connection is read from /proc: the kernel hands
each accepted connection to one worker process, and that process owns the server-side socket."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from tests.crm.conftest import (  # noqa: F401  (fixtures reused from the CRM suite)
    TOKEN,
    crm_database_url,
    start_crm,
)
from tests.support.servers import ServerProcess, booking_app, free_port

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture(scope="module")
def scaleout_database_url() -> Iterator[str]:
    """Its own database: a running app delivers and expires every row of its database."""
    from crm_booking.db import engine_for
    from crm_booking.launcher import migrate
    from tests.conftest import _drop_database, _throwaway_database

    url, name = _throwaway_database("booking_scaleout")
    migrate(url)
    yield url
    engine_for(url).dispose()
    _drop_database(name)


@pytest.fixture(scope="module")
def crm(start_crm: Any, crm_database_url: str) -> Any:  # noqa: F811
    return start_crm({"CRM_DATABASE_URL": crm_database_url})


@pytest.fixture(scope="module")
def two_workers(scaleout_database_url: str, crm: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    clock_file = tmp_path_factory.mktemp("scaleout-clock") / "offset"
    clock_file.write_text("0")
    port = free_port()
    server = booking_app(
        database_url=scaleout_database_url, port=port, clock_file=clock_file, workers=2, name="booking-2-workers",
        extra_env={"REDIS_URL": REDIS_URL, "JOBS_ENABLED": "true", "CRM_URL": crm.base_url,
                   "CRM_API_TOKEN": TOKEN, "BOOKING_HOLD_MINUTES": "1"},
    )
    server.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    server.port = port  # type: ignore[attr-defined]
    server.clock_file = clock_file  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()


def worker_pids(server: ServerProcess) -> list[int]:
    assert server.process is not None
    out = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True).stdout
    # uvicorn's workers are spawned children; the other child is multiprocessing's resource tracker.
    return [int(pid) for pid in out.split() if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == server_port and remote_port == client_port:
                return fields[9]
    return None


def accepting_worker(server: ServerProcess, client_port: int) -> int:
    """The worker process that owns the server side of the connection from `client_port`."""
    inode = _server_socket_inode(server.port, client_port)  # type: ignore[attr-defined]
    owners = [pid for pid in worker_pids(server) if inode in _socket_inodes(pid)]
    assert len(owners) == 1, (inode, owners)
    return owners[0]


class _OnAWorker(Protocol):
    worker: int

    def close(self) -> None: ...


Opened = TypeVar("Opened", bound=_OnAWorker)


def opened_on_another_worker(open_one: Callable[[], Opened], worker: int, tries: int = 60) -> Opened:
    """Open connections until one was accepted by a worker other than `worker`."""
    for _ in range(tries):
        other = open_one()
        if other.worker != worker:
            return other
        other.close()
    raise AssertionError("every connection went to the same worker")


class Connection:
    """One keep-alive HTTP connection, and the worker process that accepted it."""

    def __init__(self, server: ServerProcess) -> None:
        self.http = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)  # type: ignore[attr-defined]
        self.http.connect()
        client_port = self.http.sock.getsockname()[1]
        self.request("GET", "/")  # the worker has accepted the connection once it answered
        self.worker = accepting_worker(server, client_port)

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.http.getresponse()
        return response.status, json.loads(response.read() or b"null")

    def close(self) -> None:
        self.http.close()


def connections_on_two_workers(server: ServerProcess, tries: int = 60) -> tuple[Connection, Connection]:
    """Open connections until two of them were accepted by different worker processes."""
    first = Connection(server)
    return first, opened_on_another_worker(lambda: Connection(server), first.worker, tries)


class PageSocket:
    """One browser tab's Reflex websocket (socket.io over Engine.IO 4 at /_event), spoken as the
    compiled frontend speaks it: the hydrate event rides in the namespace CONNECT packet, later
    events are `42/_event,["event", {...}]`, and so are the backend's state deltas."""

    NAMESPACE = "/_event"

    def __init__(self, server: ServerProcess, token: str) -> None:
        import simple_websocket

        self.token = token
        self.router: dict[str, Any] = {}
        self.ws = simple_websocket.Client(
            f"ws://127.0.0.1:{server.port}/_event/?EIO=4&transport=websocket&token={token}")  # type: ignore[attr-defined]
        client_port = self.ws.sock.getsockname()[1]
        opened = self.ws.receive(timeout=30)
        assert opened is not None and opened.startswith("0"), opened  # Engine.IO OPEN
        self.worker = accepting_worker(server, client_port)

    def _event(self, name: str, router: dict[str, Any], payload: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"token": self.token, "name": name, "payload": payload or {}, "router_data": router}

    def hydrate(self, router: dict[str, Any]) -> None:
        self.router = router
        auth = {"event": self._event("reflex___state____state.hydrate_and_load", router)}
        self.ws.send(f"40{self.NAMESPACE},{json.dumps(auth)}")

    def send(self, name: str, router: dict[str, Any], payload: dict[str, Any] | None = None) -> None:
        self.ws.send(f"42{self.NAMESPACE},{json.dumps(['event', self._event(name, router, payload)])}")

    def next_delta(self, timeout: float = 30) -> dict[str, Any]:
        """The next state delta the backend sends. On the way it answers Engine.IO pings and
        sends back the events the backend asks the page for (its on_load handlers), as the
        browser does."""
        prefix = f"42{self.NAMESPACE},"
        while True:
            message = self.ws.receive(timeout=timeout)
            assert message is not None, "no answer from the backend"
            if message == "2":
                self.ws.send("3")
            elif message.startswith(prefix):
                name, update = json.loads(message[len(prefix):])
                if isinstance(update, str):
                    update = json.loads(update)
                if name != "event":
                    continue
                for event in update.get("events") or []:
                    if not str(event.get("name", "")).startswith("_"):
                        self.send(event["name"], self.router, event.get("payload"))
                if update.get("delta"):
                    return update["delta"]  # type: ignore[no-any-return]

    def close(self) -> None:
        self.ws.close()

