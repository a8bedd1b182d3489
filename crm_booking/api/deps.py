"""Request dependencies: the signed-in user from the Bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crm_booking.api.schemas import storable_text_problem
from crm_booking.errors import Unauthorized, ValidationFailed
from crm_booking.models import User
from crm_booking.services import auth

bearer = HTTPBearer(auto_error=False, description="JWT access token from /auth/login")


def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized()
    return credentials.credentials


def current_user(token: Annotated[str, Depends(bearer_token)]) -> User:
    return auth.user_from_access_token(token)


CurrentUser = Annotated[User, Depends(current_user)]
BearerToken = Annotated[str, Depends(bearer_token)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def storable_query(request: Request) -> None:
    """App-wide: a query string value no database can keep (a %00, a lone surrogate) is a
    validation error on that parameter, whatever the endpoint does with it."""
    problems = {name: problem for name, value in request.query_params.items()
                if (problem := storable_text_problem(value))}
    if problems:
        raise ValidationFailed(problems)
