"""The processes under test, started as production starts them, each in its own process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from crm_booking.launcher import booking_command, booking_env
from crm_booking.settings import PROJECT_ROOT

CRM_TOKEN = "bench-crm-token-0123456789"
REDIS_DB = 11  # the benchmark's own Redis database, flushed before each app start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], health: str,
                 log_dir: Path, port: int) -> None:
        self.name, self.command, self.env, self.health = name, command, env, health
        self.log_path = log_dir / f"{name}.log"
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.cwd = PROJECT_ROOT

    def start(self, timeout: float = 120.0) -> Server:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                if httpx.get(self.health, timeout=2).status_code < 500:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not up after {timeout:.0f}s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the supervisor), for py-spy."""
        assert self.process is not None
        output = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                text=True).stdout
        # Spawned workers only; multiprocessing's resource tracker is a child too.
        children = [int(pid) for pid in output.split()
                    if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        return children or [self.process.pid]

    def cpu_seconds(self) -> float:
        """User + system CPU of every live process of this server (its process group): the
        supervisor and all workers. Read before and after a load run, divided by its requests,
        it gives CPU per request, which does not depend on what else shares the machine."""
        assert self.process is not None
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # field 5, pgrp
                ticks += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def flush_redis() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


def booking_app(*, database_url: str, workers: int, log_dir: Path, crm_url: str,
                name: str, redis: bool = True, extra: dict[str, str] | None = None) -> Server:
    """The Booking app exactly as `python -m crm_booking serve --workers N` runs it: jobs on,
    Reflex state in Redis, outbox delivered to a real CRM service."""
    port = free_port()
    env = booking_env({
        "DATABASE_URL": database_url,
        "BOOKING_HOST": "127.0.0.1",
        "BOOKING_PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "JOBS_ENABLED": "true",
        "CRM_URL": crm_url,
        "CRM_API_TOKEN": CRM_TOKEN,
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}" if redis else "",
        **(extra or {}),
    })
    if redis:
        flush_redis()
    return Server(name, booking_command(port=port, workers=workers), env, f"http://127.0.0.1:{port}/",
                  log_dir, port)


def crm_service(*, database_url: str, log_dir: Path) -> Server:
    port = free_port()
    env = {**os.environ, "CRM_HOST": "127.0.0.1", "CRM_PORT": str(port), "APP_ENV": "development",
           "CRM_DATABASE_URL": database_url, "CRM_API_TOKEN": CRM_TOKEN, "SMTP_HOST": "",
           "EMAIL_OUTBOX_DIR": str(log_dir / "crm-mail")}
    return Server("crm", [sys.executable, "-m", "crm_service"], env, f"http://127.0.0.1:{port}/health",
                  log_dir, port)


def minimal_service(*, dsn: str, log_dir: Path, replay: Path) -> Server:
    from crm_booking.settings import get_settings

    port = free_port()
    env = {**os.environ, "BENCH_DSN": dsn, "JWT_SECRET_KEY": get_settings().JWT_SECRET_KEY,
           "PYTHONPATH": str(PROJECT_ROOT), "BENCH_REPLAY": str(replay)}
    command = [sys.executable, "-m", "uvicorn", "bench.minimal_service:app", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1", "--no-access-log"]
    return Server("minimal", command, env, f"http://127.0.0.1:{port}/events?limit=1", log_dir, port)


def bare_reflex(*, database_url: str, workers: int, log_dir: Path) -> Server:
    """bench/bare_reflex: Reflex's defaults, the same Redis database and worker count as the app."""
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": database_url, "REFLEX_ENV_MODE": "prod",
           "REFLEX_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}", "__REFLEX_SKIP_COMPILE": "true",
           "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false",
           "PYTHONPATH": str(PROJECT_ROOT / "bench" / "bare_reflex")}
    flush_redis()
    command = [sys.executable, "-m", "uvicorn", "--factory", "bare_reflex.bare_reflex:app",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--no-access-log"]
    server = Server("bare-reflex", command, env, f"http://127.0.0.1:{port}/ping", log_dir, port)
    server.cwd = PROJECT_ROOT / "bench" / "bare_reflex"
    return server
