"""Driving the sign-in redirects the way a browser would, one hop at a time."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlmodel import or_, select

from crm_booking.db import read_session
from crm_booking.models import OAuthState, User


@dataclass
class Flow:
    start: httpx.Response
    authorize: httpx.Response
    callback_url: str
    callback: httpx.Response

    @property
    def state(self) -> str:
        return query_of(self.callback_url)["state"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def go_to_google(client: httpx.Client, return_to: str | None = None) -> httpx.Response:
    params = {"return_to": return_to} if return_to is not None else None
    response = client.get("/auth/google", params=params)
    assert response.status_code in (302, 307), response.text
    return response


def through_consent(client: httpx.Client, start: httpx.Response) -> tuple[httpx.Response, str]:
    """Follow the app's redirect to the provider's /authorize, which answers with the callback."""
    authorize = client.get(start.headers["location"])
    assert authorize.status_code == 302, authorize.text
    callback_url = authorize.headers["location"]
    assert urlsplit(callback_url).path == "/auth/google/callback"
    return authorize, callback_url


def sign_in(client: httpx.Client, return_to: str | None = None) -> Flow:
    start = go_to_google(client, return_to)
    authorize, callback_url = through_consent(client, start)
    return Flow(start, authorize, callback_url, client.get(callback_url))


def users_matching(*, email: str, google_id: str) -> list[User]:
    with read_session() as session:
        return list(session.exec(select(User).where(or_(User.email == email, User.google_id == google_id))))


def stored_state(state: str) -> OAuthState | None:
    with read_session() as session:
        return session.get(OAuthState, state)
