"""Issue 14, defect 1 (login forgery): the Google callback and the web UI's sign-in ticket only
work in the browser that started the sign-in."""

from __future__ import annotations

import httpx

from crm_booking.api.google import STATE_COOKIE
from crm_booking.services import web_sessions
from crm_booking.services.auth import INVALID_GOOGLE_STATE
from tests.google.flow import go_to_google, stored_state, through_consent
from tests.support import api as client_api


def test_someone_elses_callback_link_signs_nobody_in(google_app: str, provider) -> None:
    with httpx.Client(base_url=google_app, timeout=30) as attacker:
        start = go_to_google(attacker, return_to="/app/bookings")
        assert STATE_COOKIE in start.headers["set-cookie"] and "httponly" in start.headers["set-cookie"].lower()
        _, callback_url = through_consent(attacker, start)
        with httpx.Client(base_url=google_app, timeout=30) as victim:
            forged = victim.get(callback_url)
            assert forged.status_code == 400 and forged.json()["error"] == INVALID_GOOGLE_STATE
            assert web_sessions.COOKIE_NAME not in forged.headers.get("set-cookie", "")
            # A browser with a Google trip of its own in progress is refused just the same.
            go_to_google(victim)
            assert victim.get(callback_url).status_code == 400
        state = dict(p.split("=", 1) for p in callback_url.split("?", 1)[1].split("&"))["state"]
        stored = stored_state(state)
        assert stored is not None and stored.used_at is None  # the refusal spent nothing
        finished = attacker.get(callback_url)
        assert finished.status_code == 302 and web_sessions.COOKIE_NAME in finished.headers["set-cookie"]


def test_callback_without_the_cookie_is_refused_for_api_clients_too(google_app: str, provider) -> None:
    with httpx.Client(base_url=google_app, timeout=30) as starter:
        _, callback_url = through_consent(starter, go_to_google(starter))
    with httpx.Client(base_url=google_app, timeout=30) as other:
        refused = other.get(callback_url)
    assert refused.status_code == 400 and refused.json() == {"error": INVALID_GOOGLE_STATE}


def test_sign_in_ticket_only_works_in_the_browser_that_asked(api: httpx.Client) -> None:
    owner = client_api.new_attendee(api)
    ticket = web_sessions.issue_login_ticket(owner.id, "prelogin-of-the-attackers-browser")
    for cookies in ({}, {web_sessions.PRELOGIN_COOKIE: "prelogin-of-the-victims-browser"}):
        with httpx.Client(base_url=str(api.base_url), cookies=cookies) as victim:
            response = victim.get("/web/session", params={"ticket": ticket, "next": "/app/"})
        assert response.status_code == 303 and response.headers["location"] == "/app/login?expired=1"
        assert "set-cookie" not in response.headers
    with httpx.Client(base_url=str(api.base_url),
                      cookies={web_sessions.PRELOGIN_COOKIE: "prelogin-of-the-attackers-browser"}) as own:
        signed_in = own.get("/web/session", params={"ticket": ticket, "next": "/app/"})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/app/"
    assert web_sessions.COOKIE_NAME in signed_in.headers["set-cookie"]
