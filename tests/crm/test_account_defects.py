"""Issue 14, defects 5 and 6 on the CRM side: an empty or short token never authenticates and
production will not start with one; an out-of-range id is a 404 in the error shape."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.crm.conftest import CrmProcess, clean_environment


@pytest.mark.parametrize("configured", ["", "short"])
def test_empty_or_short_token_never_authenticates(start_crm: Any, configured: str) -> None:
    crm: CrmProcess = start_crm({"CRM_DATABASE_URL": "sqlite:///crm.db", "CRM_API_TOKEN": configured})
    with httpx.Client(base_url=crm.base_url, timeout=10) as client:
        # httpx refuses a header ending in a space; "Bearer" alone carries the empty token.
        for header in {"Bearer", f"Bearer {configured}".strip()}:
            listed = client.get("/notifications", headers={"Authorization": header})
            assert listed.status_code == 401, (header, listed.text)
            relayed = client.post("/test-email", headers={"Authorization": header},
                                  json={"to_email": "x@example.com", "subject": "s", "html_content": "h"})
            assert relayed.status_code == 401
            assert relayed.json() == {"error": "Invalid or expired token"}


@pytest.mark.parametrize("configured", ["", "only-sixteen-by"])
def test_production_refuses_an_empty_or_short_token(tmp_path: Path, configured: str) -> None:
    env = clean_environment() | {"APP_ENV": "production", "CRM_DATABASE_URL": "sqlite:///crm.db",
                                 "CRM_API_TOKEN": configured}
    result = subprocess.run([sys.executable, "-m", "crm_service"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3  # the production refusal status of both services
    assert "CRM_API_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_huge_notification_id_is_a_404(crm_api: httpx.Client) -> None:
    for notification_id in (2**63, 2**63 - 1, 10**30):
        response = crm_api.delete(f"/notifications/{notification_id}")
        assert response.status_code == 404, response.text
        assert response.json() == {"error": "Notification not found"}
