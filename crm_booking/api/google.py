"""Endpoints 3 and 4: Google sign-in (completed by the Google sign-in work, issue 7)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/auth", tags=["auth"])
