"""What the browser tests do on every page: wait for the app, check accessibility, screenshot."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
BLOCKING = {"serious", "critical"}
_axe = Axe()


def wait_ready(page: Page) -> None:
    """The page has connected to the backend and its on_load has filled it in."""
    expect(page.locator("main h1")).to_have_count(1)
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)


def check_accessibility(page: Page) -> None:
    page.mouse.move(1, 790)  # no hover styles: the page as it rests
    page.wait_for_timeout(250)  # and no colour transition still running
    results = _axe.run(page)
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(f"{n['target']} {n.get('failureSummary', '')}" for n in v["nodes"][:5])
        for v in results.response["violations"] if v["impact"] in BLOCKING
    ]
    assert blocking == [], f"axe found problems on {page.url}:\n" + "\n".join(blocking)


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.wait_for_timeout(300)  # let the layout settle at the new width
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    check_accessibility(page)  # again at phone width: the layout differs
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]


def visit_checked(page: Page, name: str) -> None:
    """Every page the tests reach: one h1, no serious axe findings, desktop + phone shots."""
    wait_ready(page)
    check_accessibility(page)
    screenshot(page, name)
