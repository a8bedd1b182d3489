"""Browser tests: Debian's chromium driven by Playwright against the app started the way the
launcher starts it (uvicorn + the prebuilt UI under /app)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, expect

from tests.support.servers import ServerProcess, booking_app, free_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BUILT_PORT = re.compile(r"(localhost|127\.0\.0\.1):5000")

pytestmark = pytest.mark.browser

# Assertions wait for the page as long as actions do for their elements, less than the context's
# 20 s: every UI change is a websocket round trip, and with a dozen servers, PostgreSQL and
# chromium on two cores a sign-in or a dialog closing took longer than Playwright's default 5 s
# in a full run (the same tests pass in 1 s on their own).
expect.set_options(timeout=15_000)


@dataclass
class App:
    url: str
    port: int
    server: ServerProcess
    client: httpx.Client


@pytest.fixture(scope="session")
def ui_build() -> None:
    """The compiled UI must exist (scripts/test.sh builds it too; this is a no-op then)."""
    from crm_booking.launcher import build_frontend

    build_frontend()


def start_ui_app(database_url: str, clock_file: Path, name: str,
                 extra_env: dict[str, str] | None = None) -> App:
    port = free_port()
    server = booking_app(
        database_url=database_url, port=port, clock_file=clock_file, name=name,
        extra_env={"CRM_URL": "http://127.0.0.1:9", "JOBS_ENABLED": "true",
                   "RAZORPAY_KEY_ID": "", "RAZORPAY_KEY_SECRET": "", **(extra_env or {})},
    ).start()
    url = f"http://127.0.0.1:{port}"
    return App(url, port, server, httpx.Client(base_url=url, timeout=30))


@pytest.fixture(scope="session")
def ui_app(ui_build: None, database_url: str, clock_file: Path) -> Iterator[App]:
    """Sandbox payments (no Razorpay keys), as on a developer machine."""
    app = start_ui_app(database_url, clock_file, "booking-app-browser")
    yield app
    app.client.close()
    app.server.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _point_ui_at(port: int) -> object:
    """The UI build carries the websocket address it was built for (port 5000, the README's);
    tests run each server on a free port, so the env module is served with that port instead.
    Nothing else in the build is touched."""
    def handle(route: Route) -> None:
        response = route.fetch()
        body = BUILT_PORT.sub(lambda m: f"{m.group(1)}:{port}", response.text())
        route.fulfill(response=response, body=body)
    return handle


def new_context(browser: Browser, app: App) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True,  # type: ignore[arg-type]
                                  base_url=app.url)
    context.route("**/assets/reflex-env-*.js", _point_ui_at(app.port))  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


@pytest.fixture
def page(browser: Browser, ui_app: App) -> Iterator[Page]:
    context = new_context(browser, ui_app)
    page = context.new_page()
    yield page
    context.close()
