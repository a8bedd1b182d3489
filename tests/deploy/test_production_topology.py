"""The production setup of docs/deploy.md, started on this machine and used through the proxy.

A release directory is made from the repository's tracked files (as /opt/crm-booking would be),
its UI built for the public https address; the two systemd units in deploy/systemd are read and
their ExecStartPre/ExecStart commands run with their Environment= lines and the env file written
from deploy/crm-booking.env.example (only paths and loopback ports are the test's own); Caddy runs
deploy/Caddyfile with a self-signed certificate on a loopback port. Real PostgreSQL and Redis,
two Booking workers, the CRM service, the fake Razorpay for the gateway. Chromium then walks the
main journey over https through the proxy: browse, sign up, book, pay, cancel, the facilitator's
dashboard, with the UI's websocket going through the proxy too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Page, Playwright, Route, WebSocket, expect

from crm_booking.services import web_sessions
from crm_booking.settings import Settings
from tests.browser.flows import booking_reference, sign_in, sign_out
from tests.browser.ui import wait_ready
from tests.conftest import _drop_database, _throwaway_database
from tests.fakes.razorpay_server import FakeRazorpay, checkout_js
from tests.support.checkout import copy_tracked_files
from tests.support.servers import LOG_DIR, ROOT, free_port

# The set-up builds the UI from scratch in the release copy (npm fetches every package), which
# took over the suite's 300 s per-test limit on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.deploy, pytest.mark.browser, pytest.mark.timeout(1500)]

OPT = "/opt/crm-booking"
ENV_FILE = "/etc/crm-booking/crm-booking.env"
PASSWORD = "Deploy-test-passw0rd"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
RAZORPAY_CHECKOUT_JS = Settings.model_fields["RAZORPAY_CHECKOUT_JS_URL"].default
# The public host name. Not "localhost": for that name Reflex's UI assumes a proxy on port 443
# and drops the port from the websocket address. Chromium resolves it to loopback itself.
HOST = "booking.test"


# --- reading the deploy files --------------------------------------------------------------------


def read_unit(path: Path) -> dict[str, list[str]]:
    """The [Service] section of a systemd unit: key -> values, in order."""
    service: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            service.setdefault(key, []).append(value)
    return service


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def unit_environment(unit: dict[str, list[str]]) -> dict[str, str]:
    values = {}
    for line in unit.get("Environment", []):
        for assignment in shlex.split(line):
            key, _, value = assignment.partition("=")
            values[key] = value
    return values


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# --- the topology ---------------------------------------------------------------------------------


@dataclass
class Topology:
    release: Path
    site: str  # https://booking.test:<port>: the public address, through Caddy
    proxy_url: str  # the same proxy, reached by address (for HTTP clients without the name)
    booking_port: int
    crm_port: int
    env: dict[str, str]  # the env file's values as the units see them (+ the units' Environment=)
    booking_env: dict[str, str]
    crm_env: dict[str, str]
    metrics_dir: Path
    razorpay: FakeRazorpay
    processes: list[subprocess.Popen] = field(default_factory=list)  # type: ignore[type-arg]

    def command(self, line: str) -> list[str]:
        """A unit's command line, pointed at the release directory and this interpreter."""
        line = line.replace(f"{OPT}/.venv/bin/python", sys.executable).replace(OPT, str(self.release))
        return shlex.split(line)

    def run(self, line: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(line), cwd=self.release, env=env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:  # type: ignore[type-arg]
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with (LOG_DIR / f"deploy-{name}.log").open("ab") as log:
            process = subprocess.Popen(command, cwd=self.release, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def base_environment() -> dict[str, str]:
    """What a systemd service starts with: no test settings from this process. The machine's own
    trust settings stay (a server has its CA bundle and proxy too): without NODE_EXTRA_CA_CERTS the
    UI build here could not fetch a package missing from npm's cache (SELF_SIGNED_CERT_IN_CHAIN)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE",
            "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",
            "https_proxy", "http_proxy", "no_proxy")
    return {k: os.environ[k] for k in keep if k in os.environ}


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120, verify: bool = True) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited with {process.returncode}"
        try:
            if httpx.get(url, timeout=3, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


def exit_status_within(command: list[str], env: dict[str, str], cwd: Path, seconds: float) -> int | None:
    """The exit status, or None if it was still running (then it is stopped)."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        process.wait(timeout=seconds)
        return process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None


def start_proxy(top: Topology, work: Path, cert: Path, key: Path, proxy_port: int) -> None:
    """deploy/Caddyfile with Debian's caddy; where apt could not install caddy, deploy/nginx's
    site file with Debian's nginx."""
    if shutil.which("caddy"):
        caddy_env = {
            **base_environment(),
            "CADDY_GLOBAL_OPTIONS": "\n".join([
                "admin off", "skip_install_trust", "auto_https disable_redirects",
                f"http_port {free_port()}", f"https_port {proxy_port}", "default_bind 127.0.0.1",
                f"storage file_system {work / 'caddy-data'}"]),
            "CRM_BOOKING_SITE": f"{top.site}, {top.proxy_url}",
            "CRM_BOOKING_TLS": f"tls {cert} {key}",
            "CRM_BOOKING_UPSTREAM": f"127.0.0.1:{top.booking_port}",
            "XDG_DATA_HOME": str(work / "caddy-xdg"), "XDG_CONFIG_HOME": str(work / "caddy-xdg"),
        }
        proxy = top.start("caddy", ["caddy", "run", "--config", str(ROOT / "deploy" / "Caddyfile"),
                                    "--adapter", "caddyfile"], caddy_env)
    else:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        site = Template((ROOT / "deploy" / "nginx" / "crm-booking.conf").read_text()).safe_substitute(
            UPSTREAM=f"127.0.0.1:{top.booking_port}", LISTEN=f"127.0.0.1:{proxy_port}",
            SERVER_NAME=f"{HOST} 127.0.0.1", CERT=str(cert), KEY=str(key))
        (work / "nginx-site.conf").write_text(site)
        temp = work / "nginx-temp"
        temp.mkdir()
        (work / "nginx.conf").write_text("\n".join([
            "user root;", f"pid {work / 'nginx.pid'};", f"error_log {work / 'nginx-error.log'};",
            "events {}", "http {", f"  access_log {work / 'nginx-access.log'};",
            *(f"  {kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
            f"  include {work / 'nginx-site.conf'};", "}", ""]))
        proxy = top.start("nginx", [nginx, "-p", str(work), "-c", str(work / "nginx.conf"),
                                    "-g", "daemon off;"], base_environment())
    wait_for(f"{top.proxy_url}/", proxy, verify=False)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if not (shutil.which("caddy") or shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.fail("No proxy: scripts/test.sh installs Debian's caddy (or install nginx)")
    work = tmp_path_factory.mktemp("deploy")
    release = copy_tracked_files(work / "opt-crm-booking")
    proxy_port, booking_port, crm_port = free_port(), free_port(), free_port()
    site = f"https://{HOST}:{proxy_port}"
    proxy_url = f"https://127.0.0.1:{proxy_port}"
    booking_url, booking_db = _throwaway_database("deploy_booking")
    crm_url, crm_db = _throwaway_database("deploy_crm")
    razorpay = FakeRazorpay().start()

    example = read_env_file(ROOT / "deploy" / "crm-booking.env.example")
    env_file = {
        **example,
        "PUBLIC_BASE_URL": site, "REFLEX_API_URL": site,
        "DATABASE_URL": booking_url, "CRM_DATABASE_URL": crm_url,
        "REDIS_URL": "redis://127.0.0.1:6379/7",
        "JWT_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "CRM_URL": f"http://127.0.0.1:{crm_port}", "CRM_API_TOKEN": uuid.uuid4().hex,
        **razorpay.env(RAZORPAY_CHECKOUT_JS_URL=RAZORPAY_CHECKOUT_JS),
        "GOOGLE_REDIRECT_URL": f"{site}/auth/google/callback",
        "SMTP_HOST": "", "SMTP_USERNAME": "", "SMTP_PASSWORD": "", "EMAIL_FROM": "",
        "EMAIL_OUTBOX_DIR": str(work / "mail"),
        "METRICS_TOKEN": uuid.uuid4().hex,
    }
    assert set(example) <= set(env_file)
    assert not [k for k, v in env_file.items() if "CHANGE" in v], "a CHANGE value was left"
    metrics_dir = work / "run-crm-booking"
    metrics_dir.mkdir()

    booking_unit = read_unit(ROOT / "deploy" / "systemd" / "crm-booking.service")
    crm_unit = read_unit(ROOT / "deploy" / "systemd" / "crm-booking-crm.service")
    assert booking_unit["EnvironmentFile"] == [ENV_FILE] == crm_unit["EnvironmentFile"]
    booking_env = {**base_environment(), **env_file, **unit_environment(booking_unit),
                   "BOOKING_PORT": str(booking_port), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    assert unit_environment(booking_unit)["WEB_CONCURRENCY"] == "2"
    assert unit_environment(booking_unit)["PROMETHEUS_MULTIPROC_DIR"].startswith("/run/")
    crm_env = {**base_environment(), **env_file, **unit_environment(crm_unit), "CRM_PORT": str(crm_port)}

    top = Topology(release, site, proxy_url, booking_port, crm_port, env_file, booking_env, crm_env, metrics_dir,
                   razorpay)
    try:
        # Deploy step of docs/deploy.md: build the UI for the public address.
        built = top.run("/opt/crm-booking/.venv/bin/python -m crm_booking build-frontend",
                        {**base_environment(), **env_file}, timeout=900)
        assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]

        crm = top.start("crm", top.command(crm_unit["ExecStart"][0]), crm_env)
        wait_for(f"http://127.0.0.1:{crm_port}/health", crm)
        for line in booking_unit["ExecStartPre"]:
            done = top.run(line, booking_env)
            assert done.returncode == 0, done.stderr
        booking = top.start("booking", top.command(booking_unit["ExecStart"][0]), booking_env)
        wait_for(f"http://127.0.0.1:{booking_port}/", booking)

        cert, key = self_signed_certificate(work)
        start_proxy(top, work, cert, key, proxy_port)
        yield top
    finally:
        top.stop()
        razorpay.stop()
        _drop_database(booking_db)
        _drop_database(crm_db)


@pytest.fixture(scope="module")
def proxy(topology: Topology) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=topology.proxy_url, verify=False, timeout=30) as client:
        yield client


# --- the browser journey through the proxy --------------------------------------------------------


def test_main_journey_over_https_through_the_proxy(topology: Topology, proxy: httpx.Client,
                                                   playwright_driver: Playwright) -> None:
    top = topology
    # An administrator makes the facilitator account on the server (no public sign-up for it).
    facilitator_email = f"fac-{uuid.uuid4().hex[:8]}@example.com"
    made = top.run(f"{OPT}/.venv/bin/python -m crm_booking create-user --email {facilitator_email} "
                   f"--name 'Asha Facilitator' --role facilitator --password {PASSWORD}", top.booking_env)
    assert made.returncode == 0, made.stderr
    token = proxy.post("/auth/login", json={"email": facilitator_email, "password": PASSWORD}
                       ).json()["access_token"]
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=8)).replace(hour=7, minute=0, second=0,
                                                                     microsecond=0, tzinfo=None)
    title = f"Sunrise Yoga {uuid.uuid4().hex[:6]}"
    created = proxy.post("/events", headers={"Authorization": f"Bearer {token}"}, json={
        "title": title, "description": "Breath and movement.", "event_type": "session",
        "start_datetime": start.isoformat(), "end_datetime": (start + dt.timedelta(hours=1)).isoformat(),
        "timezone": "Asia/Kolkata", "location": "Studio A", "max_participants": 5, "price": 499.0})
    assert created.status_code == 201, created.text
    event_id = created.json()["event"]["id"]

    sockets: list[WebSocket] = []
    frames: list[str] = []
    # The run's one Playwright driver (tests/conftest.py): a second one cannot start beside it.
    browser = playwright_driver.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"])
    context = browser.new_context(base_url=top.site, ignore_https_errors=True,
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)

    def stand_in(route: Route) -> None:
        route.fulfill(status=200, content_type="application/javascript",
                      body=checkout_js(top.razorpay.url))

    context.route("**/checkout.js", stand_in)
    page: Page = context.new_page()

    def on_socket(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on("framereceived", lambda payload: frames.append(str(payload)[:200]))

    page.on("websocket", on_socket)
    try:
        # Browse.
        page.goto("/app/")
        wait_ready(page)
        card = page.locator(".rt-Card").filter(has_text=title)
        expect(card).to_contain_text("₹499")
        card.get_by_role("link", name=title).click()
        expect(page).to_have_url(re.compile(rf"/app/events/{event_id}/?$"))
        wait_ready(page)
        # Sign up (from the Book button).
        page.get_by_role("button", name="Book").click()
        expect(page).to_have_url(re.compile(r"/app/login\?next=/events/\d+"))
        # The "Create an account" link carries `next` whether or not the page's state has
        # arrived (tests/browser/test_sign_in_links.py); the journey still acts on settled pages.
        wait_ready(page)
        page.get_by_role("link", name="Create an account").click()
        expect(page).to_have_url(re.compile(r"/app/signup\?next=/events/\d+"))
        wait_ready(page)
        page.get_by_label("Your name").fill("Ravi Attendee")
        page.get_by_label("Email").fill(f"att-{uuid.uuid4().hex[:8]}@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page).to_have_url(re.compile(rf"/app/events/{event_id}/?$"))
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        session_cookie = next(c for c in context.cookies() if c["name"] == web_sessions.COOKIE_NAME)
        assert session_cookie["secure"] is True and session_cookie["httpOnly"] is True
        # Book and pay (Razorpay Checkout against the fake gateway).
        page.get_by_role("button", name="Book").click()
        expect(page).to_have_url(re.compile(r"/pay/BK\d+\?token="))
        page.get_by_role("button", name="Pay with Razorpay").click()
        reference = booking_reference(page)
        wait_ready(page)
        expect(page.locator("#payment-status")).to_have_text("Paid")
        # Cancel: refunded.
        page.get_by_role("navigation").get_by_role("link", name="My bookings").click()
        wait_ready(page)
        item = page.locator(".rt-Card").filter(has_text=reference)
        expect(item).to_contain_text("Paid")
        item.get_by_role("button", name=f"Cancel booking {reference}").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Yes, cancel it").click()
        expect(page.locator(".rt-Card").filter(has_text=reference)).to_contain_text("Refunded")
        # The facilitator's dashboard.
        sign_out(page)
        sign_in(page, facilitator_email, PASSWORD, next_path="/dashboard")
        expect(page).to_have_url(re.compile(r"/app/dashboard/?$"))
        wait_ready(page)
        expect(page.locator(".rt-Card").filter(has_text=title)).to_be_visible()
    finally:
        page.screenshot(path=str(ROOT / "test-artifacts" / "deploy-last-page.png"), full_page=True)
        context.close()
        browser.close()

    # The UI's websocket went through the proxy (wss on the public address) and carried updates.
    socket_urls = {s.url for s in sockets}
    assert any(url.startswith(f"{top.site.replace('https:', 'wss:')}/_event") for url in socket_urls), socket_urls
    assert len(frames) > 10, frames

    # Both workers served (each writes its own metric files), and the notifications reached the CRM.
    worker_pids = {p.name.rsplit("_", 1)[-1] for p in top.metrics_dir.glob("*.db")}
    assert len(worker_pids) >= 2, worker_pids
    deadline = time.monotonic() + 30
    while True:
        with httpx.Client(base_url=f"http://127.0.0.1:{top.crm_port}", timeout=10, headers={
                "Authorization": f"Bearer {top.env['CRM_API_TOKEN']}"}) as crm:
            actions = {n["action"] for n in crm.get("/notifications", params={"limit": 100}).json()["notifications"]}
        if {"booking_created", "booking_cancelled"} <= actions or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {"booking_created", "booking_cancelled"} <= actions, actions


def test_readiness_and_metrics_through_the_proxy(topology: Topology, proxy: httpx.Client) -> None:
    ready = proxy.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "crm": "ok"}
    assert ready.headers["x-request-id"]
    # /metrics is closed at the proxy; on loopback, the scraper with the token gets it.
    assert proxy.get("/metrics", headers={"Authorization": f"Bearer {topology.env['METRICS_TOKEN']}"}
                     ).status_code == 404
    local = httpx.get(f"http://127.0.0.1:{topology.booking_port}/metrics", timeout=10,
                      headers={"Authorization": f"Bearer {topology.env['METRICS_TOKEN']}"})
    assert local.status_code == 200 and "crm_booking_http_requests_total" in local.text
    # The proxy says who the client is and that it came over https (uvicorn --proxy-headers).
    assert proxy.get("/").json()["status"] == "healthy"


# --- what production refuses ---------------------------------------------------------------------


def test_production_refuses_default_secrets(topology: Topology) -> None:
    booking_unit = read_unit(ROOT / "deploy" / "systemd" / "crm-booking.service")
    crm_unit = read_unit(ROOT / "deploy" / "systemd" / "crm-booking-crm.service")
    defaults = {k: v for k, v in topology.booking_env.items() if k not in ("JWT_SECRET_KEY", "CRM_API_TOKEN")}
    defaults["BOOKING_PORT"] = str(free_port())
    refused = topology.run(booking_unit["ExecStart"][0], defaults, timeout=120)
    assert refused.returncode == 3
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "JWT_SECRET_KEY" in lines[0] and "CRM_API_TOKEN" in lines[0], refused.stderr
    crm_defaults = {k: v for k, v in topology.crm_env.items() if k != "CRM_API_TOKEN"}
    crm_defaults["CRM_PORT"] = str(free_port())
    crm_refused = topology.run(crm_unit["ExecStart"][0], crm_defaults, timeout=120)
    assert crm_refused.returncode == 3 and "Traceback" not in crm_refused.stderr
    assert "RestartPreventExitStatus=3" in (ROOT / "deploy" / "systemd" / "crm-booking.service").read_text()


def test_production_refuses_the_sandbox_gateway(topology: Topology) -> None:
    """No Razorpay keys in production means the sandbox checkout: it must refuse to start, even
    with a non-default sandbox secret."""
    booking_unit = read_unit(ROOT / "deploy" / "systemd" / "crm-booking.service")
    env = {k: v for k, v in topology.booking_env.items() if not k.startswith("RAZORPAY_KEY")}
    env |= {"SANDBOX_PAYMENT_SECRET": uuid.uuid4().hex, "BOOKING_PORT": str(free_port())}
    status = exit_status_within(topology.command(booking_unit["ExecStart"][0]), env, topology.release, 60)
    assert status == 3


def test_production_refuses_demo_data(topology: Topology) -> None:
    """`seed` loads the demo accounts (known passwords): production must refuse it."""
    url, name = _throwaway_database("deploy_seed")
    try:
        env = {**topology.booking_env, "DATABASE_URL": url}
        assert topology.run(f"{OPT}/.venv/bin/python -m crm_booking migrate", env).returncode == 0
        seeded = topology.run(f"{OPT}/.venv/bin/python -m crm_booking seed", env)
        sqlalchemy = __import__("sqlalchemy")
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            demo_users = connection.execute(
                sqlalchemy.text("SELECT count(*) FROM users WHERE email LIKE :demo"),
                {"demo": "%@example.com"}).scalar_one()
        engine.dispose()
        assert seeded.returncode != 0 and demo_users == 0
    finally:
        _drop_database(name)
