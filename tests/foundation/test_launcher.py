"""The README's run command: both servers come up, serve the API, the UI and the CRM health,
print the demo logins, and stop cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.support.servers import ROOT, free_port


def _wait_for_banner(log_path, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while "CRM Booking is running" not in log_path.read_text():
        assert process.poll() is None, "serve exited early: " + log_path.read_text()[-2000:]
        assert time.monotonic() < deadline, "no banner: " + log_path.read_text()[-2000:]
        time.sleep(0.2)


def test_serve_runs_both_services_and_stops_on_ctrl_c(tmp_path):
    booking_port, crm_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'booking.db'}",
        "CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}",
        "EMAIL_OUTBOX_DIR": str(tmp_path / "mail"),
        "BOOKING_PORT": str(booking_port),
        "CRM_PORT": str(crm_port),
        "BOOKING_HOST": "127.0.0.1",
        "CRM_HOST": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
        # The UI as scripts/test.sh built it (for :5000), so this test does not rebuild it for
        # its own port (the browser tests rewrite the built port).
        "REFLEX_API_URL": "http://localhost:5000",
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "crm_booking", "serve"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_banner(log_path, process)
        # The banner is printed only once both servers have bound: no waiting from here on.
        health = httpx.get(f"http://127.0.0.1:{booking_port}/", timeout=5)
        assert health.json()["status"] == "healthy"
        crm = httpx.get(f"http://127.0.0.1:{crm_port}/health", timeout=5)
        assert crm.status_code == 200
        ui = httpx.get(f"http://127.0.0.1:{booking_port}/app/", timeout=10)
        assert ui.status_code == 200 and "<html" in ui.text.lower()
        events = httpx.get(f"http://127.0.0.1:{booking_port}/events", timeout=10).json()["events"]
        assert {e["event_type"] for e in events} == {"session", "workshop", "retreat"}
        deadline = time.monotonic() + 30
        while "Demo logins" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        output = log_path.read_text()
        assert "facilitator@example.com" in output and "attendee@example.com" in output
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, log_path.read_text()[-2000:]
    for port in (booking_port, crm_port):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            raise AssertionError(f"port {port} still answers after Ctrl-C")
        except httpx.ConnectError:
            pass


def _serve_env(tmp_path, **extra: str) -> dict[str, str]:
    secret_names = ("JWT_", "CRM_API_TOKEN", "RAZORPAY_", "SANDBOX_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(secret_names)}
    return env | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'booking.db'}",
        "CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}",
        "BOOKING_HOST": "127.0.0.1", "CRM_HOST": "127.0.0.1",
        "BOOKING_PORT": str(free_port()), "CRM_PORT": str(free_port()),
        **extra,
    }


def test_a_port_in_use_is_named_without_a_traceback(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "crm_booking", "serve", "--no-seed"], cwd=ROOT,
                                env=_serve_env(tmp_path, BOOKING_PORT=str(port)),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 4
    assert f"Port {port} (BOOKING_PORT) is already in use" in result.stderr
    assert "BOOKING_PORT=" in result.stderr  # what to do about it
    assert "Traceback" not in result.stderr + result.stdout
    assert "CRM Booking is running" not in result.stdout
    assert not (tmp_path / "booking.db").exists()  # refused before touching anything


def test_production_default_secrets_one_line_and_exit_3(tmp_path):
    result = subprocess.run([sys.executable, "-m", "crm_booking", "serve"], cwd=ROOT,
                            env=_serve_env(tmp_path, APP_ENV="production"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Refusing to start with APP_ENV=production")
    assert "JWT_SECRET_KEY" in lines[0] and "CRM_API_TOKEN" in lines[0]


def test_a_production_worker_started_directly_also_refuses_in_one_line(tmp_path):
    """systemd starts uvicorn itself (deploy/): the app module refuses the same way."""
    from crm_booking.launcher import booking_command, booking_env

    env = booking_env(_serve_env(tmp_path, APP_ENV="production"))
    env = {k: v for k, v in env.items() if not k.startswith(("JWT_", "CRM_API_TOKEN"))}
    result = subprocess.run(booking_command(port=free_port(), workers=1), cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "Refusing to start with APP_ENV=production" in result.stderr


def test_theme_is_configured_by_the_radix_plugin():
    import reflex as rx

    from rxconfig import config

    radix = [p for p in config.plugins if isinstance(p, rx.plugins.RadixThemesPlugin)]
    assert radix and radix[0].theme is not None
    source = (ROOT / "crm_booking" / "crm_booking.py").read_text()
    assert "theme=" not in source  # App(theme=...) is deprecated since Reflex 0.9


def test_a_build_for_another_port_is_another_build(monkeypatch):
    """The UI carries its websocket address; a build made for one BOOKING_PORT must not pass as
    up to date for another (it did: the hash ignored BOOKING_PORT, and a `serve` on a test port
    left a UI that the browser tests could not connect)."""
    from crm_booking.launcher import ui_sources_hash

    monkeypatch.delenv("REFLEX_API_URL", raising=False)
    monkeypatch.delenv("BOOKING_PORT", raising=False)
    default = ui_sources_hash()
    monkeypatch.setenv("BOOKING_PORT", "5000")
    assert ui_sources_hash() == default
    monkeypatch.setenv("BOOKING_PORT", "5010")
    assert ui_sources_hash() != default
    monkeypatch.setenv("REFLEX_API_URL", "http://localhost:5000")
    assert ui_sources_hash() == default
