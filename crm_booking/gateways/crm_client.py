"""HTTP client of the CRM service (POST /notify)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx

from crm_booking.metrics import GATEWAY_ERRORS
from crm_booking.observability import REQUEST_ID_HEADER
from crm_booking.settings import get_settings


@dataclass(frozen=True)
class Delivery:
    ok: bool
    permanent_failure: bool  # the CRM refused the payload itself; retrying cannot help
    notification_id: int | None
    detail: str


@lru_cache
def _client() -> httpx.Client:
    settings = get_settings()
    return httpx.Client(
        base_url=settings.CRM_URL.rstrip("/"),
        headers={"Authorization": f"Bearer {settings.CRM_API_TOKEN}"},
        timeout=settings.CRM_TIMEOUT_SECONDS,
    )


def post_notification(payload: dict[str, Any], path: str = "/notify",
                      request_id: str | None = None) -> Delivery:
    headers = {REQUEST_ID_HEADER: request_id} if request_id else {}
    try:
        response = _client().post(path, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        GATEWAY_ERRORS.labels("crm", "notify", "unreachable").inc()
        return Delivery(False, False, None, f"CRM unreachable: {type(exc).__name__}")
    if response.status_code == 200:
        body = response.json()
        # The CRM answers 200 even when its email failed (status "failed") or another request is
        # mid-send ("pending"); only "sent" or "saved" (no SMTP configured) means done. A retry
        # with the same idempotency key makes the CRM try the email again, never twice.
        status = body.get("status", "sent")
        if status in ("sent", "saved"):
            return Delivery(True, False, body.get("notification_id"), status)
        return Delivery(False, False, body.get("notification_id"),
                        f"CRM stored it but email is {status}: {body.get('email_error', '')}"[:300])
    GATEWAY_ERRORS.labels("crm", "notify", f"http_{response.status_code}").inc()
    # 400 means our payload is wrong: retrying the same bytes will not help. Anything else
    # (401 misconfigured token, 5xx, proxies) may recover, so it is retried.
    return Delivery(False, response.status_code == 400, None,
                    f"CRM answered {response.status_code}: {response.text[:300]}")
