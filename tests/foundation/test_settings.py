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
    Settings(_env_file=None, APP_ENV="production", JWT_SECRET_KEY="x" * 40, CRM_API_TOKEN="p" * 32,
             RAZORPAY_KEY_ID="rzp_live_x", RAZORPAY_KEY_SECRET="secret",
             RAZORPAY_WEBHOOK_SECRET="whsec").check_production_ready()


@pytest.mark.parametrize("token", ["", "prod-token-123"])
def test_production_refuses_an_empty_or_short_crm_token(token):
    """Issue 14 (defect 5): an empty token would authenticate an empty Authorization header."""
    settings = Settings(_env_file=None, APP_ENV="production", JWT_SECRET_KEY="x" * 40,
                        CRM_API_TOKEN=token, RAZORPAY_KEY_ID="rzp_live_x", RAZORPAY_KEY_SECRET="secret",
                        RAZORPAY_WEBHOOK_SECRET="whsec")
    with pytest.raises(InsecureSettingsError, match="CRM_API_TOKEN"):
        settings.check_production_ready()


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


def test_seller_gstin_must_have_the_gstin_shape():
    """Issue 15: receipts print the seller's GSTIN, so a malformed one stops the start."""
    assert Settings(_env_file=None, SELLER_GSTIN=" 29abcde1234f1z5 ").SELLER_GSTIN == "29ABCDE1234F1Z5"
    assert Settings(_env_file=None).SELLER_GSTIN == ""  # not registered: plain receipts
    with pytest.raises(ValueError, match="15-character GSTIN"):
        Settings(_env_file=None, SELLER_GSTIN="29ABCDE1234")


def test_production_without_razorpay_keys_refuses_even_with_a_sandbox_secret(database_url):
    """Issue 13 (12): a non-default sandbox secret used to let production run the sandbox
    checkout, i.e. paid seats for free. The refusal is one clear line and a non-zero exit."""
    env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": database_url,
           "JWT_SECRET_KEY": "x" * 40, "CRM_API_TOKEN": "prod-token-" + "7" * 32,
           "SANDBOX_PAYMENT_SECRET": "a-secret-nobody-knows-0123456789",
           "RAZORPAY_KEY_ID": "", "RAZORPAY_KEY_SECRET": ""}
    result = subprocess.run([sys.executable, "-c", "import crm_booking.crm_booking"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "Refusing to start with APP_ENV=production: these settings still have their development "
        "default or are missing: RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET"], result.stderr


def test_production_never_builds_the_sandbox_gateway(monkeypatch):
    from crm_booking.gateways import payments
    from crm_booking.gateways.razorpay_gateway import RazorpayGateway

    production = Settings(_env_file=None, APP_ENV="production", RAZORPAY_KEY_ID="",
                          RAZORPAY_KEY_SECRET="")
    monkeypatch.setattr(payments, "get_settings", lambda: production)
    payments.get_gateway.cache_clear()
    try:
        assert isinstance(payments.get_gateway(), RazorpayGateway)
    finally:
        payments.get_gateway.cache_clear()
