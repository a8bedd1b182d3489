"""Settings: production refuses development secrets, and says which."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crm_booking.settings import InsecureSettingsError, Settings


def test_development_accepts_defaults():
    Settings(_env_file=None, APP_ENV="development").check_production_ready()


def test_production_refuses_each_default_secret_by_name():
    settings = Settings(_env_file=None, APP_ENV="production")
    with pytest.raises(InsecureSettingsError) as refused:
        settings.check_production_ready()
    message = str(refused.value)
    assert "JWT_SECRET_KEY" in message and "CRM_API_TOKEN" in message
    assert "RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET" in message


def test_production_with_real_secrets_starts():
    Settings(_env_file=None, APP_ENV="production", JWT_SECRET_KEY="x" * 40, CRM_API_TOKEN="prod-token-123",
             RAZORPAY_KEY_ID="rzp_live_x", RAZORPAY_KEY_SECRET="secret",
             RAZORPAY_WEBHOOK_SECRET="whsec").check_production_ready()


def test_short_jwt_key_is_refused():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Settings(_env_file=None, JWT_SECRET_KEY="short")


def test_production_process_exits_naming_the_setting(database_url):
    env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": database_url}
    env.pop("JWT_SECRET_KEY", None)
    result = subprocess.run([sys.executable, "-c", "import crm_booking.crm_booking"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "JWT_SECRET_KEY" in result.stderr and "APP_ENV=production" in result.stderr
