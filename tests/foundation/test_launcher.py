"""The README's run command: both servers come up, serve the API, the UI and the CRM health,
print the demo logins, and stop cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.support.servers import ROOT, free_port


def _wait(url: str, process: subprocess.Popen, timeout: float = 120) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited early"
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            time.sleep(0.3)
    raise TimeoutError(url)


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
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "crm_booking", "serve"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        health = _wait(f"http://127.0.0.1:{booking_port}/", process)
        assert health.json()["status"] == "healthy"
        crm = _wait(f"http://127.0.0.1:{crm_port}/health", process)
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
