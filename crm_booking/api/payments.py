"""Endpoints 15 and 16 and the Razorpay webhook (completed by the payments work, issue 5)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["payments"])
