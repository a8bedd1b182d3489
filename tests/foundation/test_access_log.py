"""Query strings carry checkout tokens and sign-in tickets; the access log must not keep them."""

from __future__ import annotations

import time
import uuid

from tests.support.servers import LOG_DIR


def test_access_log_drops_query_strings(api):
    marker = uuid.uuid4().hex
    api.get(f"/pay/BK2026999?token={marker}")
    api.get(f"/web/session?ticket={marker}&next=/app/")
    time.sleep(0.5)
    log = (LOG_DIR / "booking-app.log").read_text(errors="replace")
    assert "/pay/BK2026999?…" in log
    assert marker not in log
