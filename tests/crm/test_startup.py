"""Start-up rules and the 500 error shape, seen from outside the process."""

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.crm.conftest import CrmProcess, clean_environment


def test_production_refuses_the_default_token(tmp_path: Path) -> None:
    env = clean_environment() | {"APP_ENV": "production", "CRM_DATABASE_URL": "sqlite:///crm.db"}
    result = subprocess.run(
        [sys.executable, "-m", "crm_service"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 3  # the same status as the Booking app's refusal
    assert "CRM_API_TOKEN is still the default" in result.stderr
    assert "Traceback" not in result.stderr


def test_internal_errors_use_the_error_shape_without_details(start_crm: Any) -> None:
    crm: CrmProcess = start_crm({"CRM_DATABASE_URL": "sqlite:///crm.db"})
    # Break the database under the running service.
    with sqlite3.connect(crm.workdir / "crm.db") as connection:
        connection.execute("DROP TABLE delivery_attempts")
        connection.execute("DROP TABLE notifications")
    with crm.client() as client:
        response = client.get("/notifications")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error", "message": "Something went wrong"}
    assert "Traceback" in crm.log()  # logged for the operator, not sent to the client
