"""Request dependencies: the signed-in user from the Bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crm_booking.api.schemas import storable_text_problem
from crm_booking.errors import Unauthorized, ValidationFailed
from crm_booking.models import User
from crm_booking.services import auth, web_sessions

bearer = HTTPBearer(auto_error=False, description="JWT access token from /auth/login")


# Dependencies that only look at the request are `async def`: FastAPI runs a plain `def`
# dependency on a worker thread, a hop per dependency per request (bench/README.md); only
# those that read the database stay plain functions.


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized()
    return credentials.credentials


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    return token_of(credentials)


def current_user(token: Annotated[str, Depends(bearer_token)]) -> User:
    return auth.user_from_access_token(token)


async def access_claims(token: Annotated[str, Depends(bearer_token)]) -> dict[str, Any]:
    """A valid access token's claims, decoded on the event loop (no database): for an endpoint
    whose service reads the user row anyway and checks the holder there
    (`auth.check_token_holder`), as creating a booking does."""
    return auth.access_claims(token)


def bearer_or_web_session_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """Downloads (calendar file, receipts) are plain links in the web UI, where the browser
    sends its HttpOnly session cookie instead of a Bearer token. Read-only GETs only: the
    cookie is SameSite=Lax, and nothing here changes state."""
    if credentials is not None:
        return current_user(token_of(credentials))
    user = web_sessions.user_for_session(request.cookies.get(web_sessions.COOKIE_NAME))
    if user is None:
        raise Unauthorized()
    return user


def optional_viewer_id(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> int | None:
    """Public reads answer everyone; a valid Bearer token only adds what that person may see
    (an event's join link). A missing, expired or bad token reads as anonymous, never a 401,
    so a stale token cannot break browsing."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        return None
    try:
        return auth.user_from_access_token(credentials.credentials).id
    except Unauthorized:
        return None


CurrentUser = Annotated[User, Depends(current_user)]
ViewerId = Annotated[int | None, Depends(optional_viewer_id)]
DownloadUser = Annotated[User, Depends(bearer_or_web_session_user)]
BearerToken = Annotated[str, Depends(bearer_token)]
AccessClaims = Annotated[dict[str, Any], Depends(access_claims)]


async def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def storable_query(request: Request) -> None:
    """App-wide: a query string value no database can keep (a %00, a lone surrogate) is a
    validation error on that parameter, whatever the endpoint does with it."""
    problems = {name: problem for name, value in request.query_params.items()
                if (problem := storable_text_problem(value))}
    if problems:
        raise ValidationFailed(problems)
