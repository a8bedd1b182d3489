"""Endpoints 20-21: the signed-in person's profile."""

from __future__ import annotations

from fastapi import APIRouter

from crm_booking.api import schemas
from crm_booking.api.deps import CurrentUser
from crm_booking.services import auth, views

router = APIRouter(prefix="/profile", tags=["profile"])


@router.get("", response_model=schemas.ProfileOut)
def get_profile(user: CurrentUser) -> dict:  # type: ignore[type-arg]
    return views.profile(user)


@router.put("", response_model=schemas.ProfileUpdated)
def update_profile(body: schemas.ProfileUpdateRequest, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    updated = auth.update_profile(user_id=user.id, name=body.name, phone=body.phone)  # type: ignore[arg-type]
    return {"message": "Profile updated successfully", "user": views.profile(updated)}
