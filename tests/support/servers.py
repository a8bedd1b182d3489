"""Start the real servers as subprocesses, the way the launcher does, on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "test-artifacts" / "logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A server subprocess in its own process group, with its output in test-artifacts/logs."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], health_url: str,
                 startup_timeout: float = 90.0) -> None:
        self.name = name
        self.command = command
        self.env = dict(env)
        self.health_url = health_url
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"

    def start(self) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_until_up()
        return self

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log_path}")
            try:
                if httpx.get(self.health_url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not up after {self.startup_timeout}s; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """kill -9 the whole process group: no shutdown code runs."""
        self.stop(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


def booking_app(*, database_url: str, port: int, clock_file: Path, extra_env: Mapping[str, str] | None = None,
                workers: int = 1, name: str = "booking-app") -> ServerProcess:
    """The Booking app exactly as `python -m crm_booking serve` starts it."""
    from crm_booking.launcher import booking_command, booking_env

    env = booking_env({
        "DATABASE_URL": database_url,
        "BOOKING_HOST": "127.0.0.1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CRM_BOOKING_CLOCK_FILE": str(clock_file),
        "JOB_INTERVAL_SECONDS": "0.3",
        "OUTBOX_BACKOFF_BASE_SECONDS": "0.2",
        "OUTBOX_BACKOFF_MAX_SECONDS": "2",
        "LOGIN_MAX_FAILURES": "5",
        # The suite keeps a dozen servers alive on one PostgreSQL (max_connections 100): each keeps
        # few idle connections and opens the rest only for a burst, as many at once as before.
        "DB_POOL_SIZE": "3",
        "DB_MAX_OVERFLOW": "27",
        # Suites not about accounts register many unverified attendees from loopback; the
        # account limits themselves are tested with their defaults in tests/accounts.
        "REGISTRATIONS_PER_ADDRESS_PER_HOUR": "100000",
        "UNVERIFIED_MAX_ACTIVE_HOLDS": "1000",
        **(extra_env or {}),
    })
    return ServerProcess(name, booking_command(port=port, workers=workers), env,
                         f"http://127.0.0.1:{port}/")


def python_module(module: str) -> list[str]:
    return [sys.executable, "-m", module]
