"""Endpoints 1, 2 and 5: register, login, refresh."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from crm_booking.api import schemas
from crm_booking.api.deps import BearerToken, client_ip
from crm_booking.services import auth
from crm_booking.services.views import user_summary

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=201, response_model=schemas.RegisterResponse)
def register(body: schemas.RegisterRequest, ip: Annotated[str, Depends(client_ip)]) -> dict:  # type: ignore[type-arg]
    user = auth.register(email=body.email, password=body.password, name=body.name, phone=body.phone,
                         ip_address=ip)
    return {"message": "User registered successfully", "user": user_summary(user)}


@router.post("/login", response_model=schemas.TokenResponse)
def login(body: schemas.LoginRequest, ip: Annotated[str, Depends(client_ip)]) -> dict:  # type: ignore[type-arg]
    tokens = auth.authenticate(email=body.email, password=body.password, ip_address=ip)
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "user": user_summary(tokens.user),
    }


@router.post("/refresh", response_model=schemas.RefreshResponse)
def refresh(token: BearerToken) -> dict:  # type: ignore[type-arg]
    tokens = auth.refresh(token)
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "user": user_summary(tokens.user),
    }
