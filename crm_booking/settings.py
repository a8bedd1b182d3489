"""All configuration of the Booking app, read once from the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_CRM_TOKEN = "super-crm-token"
DEV_SANDBOX_SECRET = "dev-only-sandbox-payment-secret"


class InsecureSettingsError(RuntimeError):
    """Raised when production would start with a development secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    APP_ENV: Literal["development", "production"] = "development"
    DATABASE_URL: str = f"sqlite:///{DATA_DIR / 'crm_booking.db'}"
    JWT_SECRET_KEY: str = DEV_JWT_SECRET
    ACCESS_TOKEN_HOURS: int = 24
    REFRESH_TOKEN_DAYS: int = 30

    CRM_URL: str = "http://127.0.0.1:5001"
    CRM_API_TOKEN: str = DEV_CRM_TOKEN
    CRM_TIMEOUT_SECONDS: float = 10.0

    RAZORPAY_KEY_ID: str = ""
    RAZORPAY_KEY_SECRET: str = ""
    RAZORPAY_WEBHOOK_SECRET: str = ""
    RAZORPAY_API_URL: str = "https://api.razorpay.com"
    RAZORPAY_CHECKOUT_JS_URL: str = "https://checkout.razorpay.com/v1/checkout.js"
    RAZORPAY_TIMEOUT_SECONDS: float = 10.0
    # Signs the local sandbox checkout's callbacks when no Razorpay keys are configured.
    SANDBOX_PAYMENT_SECRET: str = DEV_SANDBOX_SECRET

    BOOKING_HOLD_MINUTES: int = Field(default=15, ge=1)
    MAX_ACTIVE_HOLDS_PER_USER: int = Field(default=5, ge=1)
    DEFAULT_TIMEZONE: str = "Asia/Kolkata"

    GOOGLE_CLIENT_ID: str = ""
    GOOGLE_CLIENT_SECRET: str = ""
    GOOGLE_DISCOVERY_URL: str = "https://accounts.google.com/.well-known/openid-configuration"
    GOOGLE_REDIRECT_URL: str = ""  # empty: PUBLIC_BASE_URL + /auth/google/callback

    PUBLIC_BASE_URL: str = "http://localhost:5000"
    REDIS_URL: str = ""
    CORS_ALLOWED_ORIGINS: str = ""  # comma separated; empty means same-origin only

    LOGIN_MAX_FAILURES: int = 5
    LOGIN_WINDOW_MINUTES: int = 15
    MAX_REQUEST_BYTES: int = 1_000_000

    JOBS_ENABLED: bool = True
    JOB_INTERVAL_SECONDS: float = 2.0
    OUTBOX_CONCURRENCY: int = Field(default=8, ge=1, le=64)
    OUTBOX_BACKOFF_BASE_SECONDS: float = 1.0
    OUTBOX_BACKOFF_MAX_SECONDS: float = 300.0

    @field_validator("JWT_SECRET_KEY")
    @classmethod
    def _jwt_key_long_enough(cls, value: str) -> str:
        if len(value.encode()) < 32:
            raise ValueError("JWT_SECRET_KEY must be at least 32 bytes")
        return value

    @property
    def is_production(self) -> bool:
        return self.APP_ENV == "production"

    @property
    def razorpay_enabled(self) -> bool:
        return bool(self.RAZORPAY_KEY_ID and self.RAZORPAY_KEY_SECRET)

    @property
    def google_enabled(self) -> bool:
        return bool(self.GOOGLE_CLIENT_ID and self.GOOGLE_CLIENT_SECRET)

    @property
    def google_redirect_url(self) -> str:
        return self.GOOGLE_REDIRECT_URL or f"{self.PUBLIC_BASE_URL.rstrip('/')}/auth/google/callback"

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.CORS_ALLOWED_ORIGINS.split(",") if o.strip()]

    def insecure_settings(self) -> list[str]:
        """Names of settings that still hold a development default (or are missing) in production."""
        problems = []
        if self.JWT_SECRET_KEY == DEV_JWT_SECRET:
            problems.append("JWT_SECRET_KEY")
        if self.CRM_API_TOKEN == DEV_CRM_TOKEN:
            problems.append("CRM_API_TOKEN")
        if self.SANDBOX_PAYMENT_SECRET == DEV_SANDBOX_SECRET and not self.razorpay_enabled:
            # Without real keys production would take sandbox "payments" signed with a known secret.
            problems.append("RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET")
        if self.razorpay_enabled and not self.RAZORPAY_WEBHOOK_SECRET:
            problems.append("RAZORPAY_WEBHOOK_SECRET")
        return problems

    def check_production_ready(self) -> None:
        if not self.is_production:
            return
        problems = self.insecure_settings()
        if problems:
            raise InsecureSettingsError(
                "Refusing to start with APP_ENV=production: these settings still have their "
                "development default or are missing: " + ", ".join(problems)
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
