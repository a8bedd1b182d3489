"""All configuration of the Booking app, read once from the environment (and `.env`)."""

from __future__ import annotations

import re
import sys
from decimal import Decimal
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
GSTIN_PATTERN = re.compile(r"\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]")


class InsecureSettingsError(RuntimeError):
    """Raised when production would start with a development secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    APP_ENV: Literal["development", "production"] = "development"
    DATABASE_URL: str = f"sqlite:///{DATA_DIR / 'crm_booking.db'}"
    # Connections a worker keeps open (PostgreSQL), and how many more it may open under a burst
    # (closed again on return). Each worker can hold DB_POOL_SIZE + DB_MAX_OVERFLOW at once.
    DB_POOL_SIZE: int = Field(default=20, ge=1)
    DB_MAX_OVERFLOW: int = Field(default=10, ge=0)
    # Bookings of one event a worker runs in database transactions at once; the rest wait their
    # turn on the event loop (crm_booking/api/event_turns.py). They all queue on the event's row.
    EVENT_BOOKING_CONCURRENCY: int = Field(default=4, ge=1)
    JWT_SECRET_KEY: str = DEV_JWT_SECRET
    ACCESS_TOKEN_HOURS: int = 24
    REFRESH_TOKEN_DAYS: int = 30

    CRM_URL: str = "http://127.0.0.1:5001"
    CRM_API_TOKEN: str = DEV_CRM_TOKEN
    CRM_TIMEOUT_SECONDS: float = 10.0

    RAZORPAY_KEY_ID: str = ""
    RAZORPAY_KEY_SECRET: str = ""
    RAZORPAY_WEBHOOK_SECRET: str = ""
    # During a webhook secret rotation: the old secret, still accepted until removed.
    RAZORPAY_WEBHOOK_SECRET_PREVIOUS: str = ""
    RAZORPAY_API_URL: str = "https://api.razorpay.com"
    RAZORPAY_CHECKOUT_JS_URL: str = "https://checkout.razorpay.com/v1/checkout.js"
    RAZORPAY_TIMEOUT_SECONDS: float = 10.0
    # How far back the reconcile job lists the gateway's payments (Razorpay retries webhooks for
    # 24 hours; an authorised payment can be captured for 5 days).
    PAYMENT_RECONCILE_HOURS: float = Field(default=72.0, gt=0)
    PAYMENT_RECONCILE_MAX_PAYMENTS: int = Field(default=2000, ge=100)
    PAYMENT_RECONCILE_INTERVAL_SECONDS: float = Field(default=300.0, ge=0)
    # Signs the local sandbox checkout's callbacks when no Razorpay keys are configured.
    SANDBOX_PAYMENT_SECRET: str = DEV_SANDBOX_SECRET

    BOOKING_HOLD_MINUTES: int = Field(default=15, ge=1)
    # How long a waitlist offer holds its seat for the person it was offered to.
    WAITLIST_OFFER_MINUTES: int = Field(default=30, ge=1)
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
    # Cover pictures: uploads may be larger than other bodies; stored resized under MEDIA_DIR.
    MAX_UPLOAD_BYTES: int = Field(default=8_000_000, ge=100_000)
    MEDIA_DIR: Path = DATA_DIR / "media"

    # The seller printed on receipts: whoever owns the Razorpay account that takes the money.
    # With a GSTIN, receipts are tax invoices (credit notes for refunds) with GST lines.
    SELLER_NAME: str = "Wellness Bookings"
    SELLER_ADDRESS: str = ""  # lines separated by "\n" or ";"
    SELLER_GSTIN: str = ""
    SELLER_GST_RATE_PERCENT: Decimal = Field(default=Decimal("18"), ge=0, le=28)
    SELLER_SAC_CODE: str = "999723"  # physical well-being services

    JOBS_ENABLED: bool = True
    JOB_INTERVAL_SECONDS: float = 2.0
    # How long a worker may answer the anonymous events list from memory (0: never). Writes made
    # through this worker clear it at once; writes through another worker show after at most
    # this long (docs/decisions/benchmark.md).
    PUBLIC_EVENTS_CACHE_SECONDS: float = Field(default=1.0, ge=0, le=60)
    OUTBOX_CONCURRENCY: int = Field(default=8, ge=1, le=64)
    OUTBOX_BACKOFF_BASE_SECONDS: float = 1.0
    OUTBOX_BACKOFF_MAX_SECONDS: float = 300.0
    # Refunds the gateway has not settled are retried (or polled) for ever, with a backoff
    # doubling from the base up to the cap; past the alert age they are raised to staff.
    REFUND_RETRY_BASE_SECONDS: float = Field(default=30.0, gt=0)
    REFUND_RETRY_MAX_SECONDS: float = Field(default=900.0, gt=0)
    REFUND_ALERT_AFTER_MINUTES: float = Field(default=60.0, gt=0)
    # Each background job has its own schedule and a time budget per run (see jobs.py).
    JOB_TIME_BUDGET_SECONDS: float = Field(default=20.0, gt=0)

    # --- accounts (issue 14) ---
    # Proxies whose X-Forwarded-For names the client (uvicorn --forwarded-allow-ips); the address
    # it yields is what the per-address limits below count.
    FORWARDED_ALLOW_IPS: str = "127.0.0.1"
    # Failed sign-ins per (address, client IP) before growing delays start: the first delay is
    # LOGIN_DELAY_BASE_SECONDS, doubling with each further failure, capped at the window.
    LOGIN_DELAY_BASE_SECONDS: int = Field(default=30, ge=1)
    REGISTRATIONS_PER_ADDRESS_PER_HOUR: int = Field(default=10, ge=1)
    # Unverified accounts may hold this many unpaid seats (verified ones MAX_ACTIVE_HOLDS_PER_USER).
    UNVERIFIED_MAX_ACTIVE_HOLDS: int = Field(default=1, ge=1)
    # Emailed links (verification, password reset) per account or address per hour.
    ACCOUNT_EMAILS_PER_HOUR: int = Field(default=5, ge=1)
    EMAIL_VERIFICATION_HOURS: int = Field(default=48, ge=1)
    PASSWORD_RESET_MINUTES: int = Field(default=60, ge=5, le=60)
    # Operations (issue 20): log format, readiness probe, metrics endpoint.
    LOG_FORMAT: Literal["text", "json"] = "text"
    READINESS_TIMEOUT_SECONDS: float = Field(default=2.0, gt=0, le=30)
    # /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; empty: 404 (not public).
    METRICS_TOKEN: str = ""

    @field_validator("JWT_SECRET_KEY")
    @classmethod
    def _jwt_key_long_enough(cls, value: str) -> str:
        if len(value.encode()) < 32:
            raise ValueError("JWT_SECRET_KEY must be at least 32 bytes")
        return value

    @field_validator("SELLER_GSTIN")
    @classmethod
    def _gstin_shape(cls, value: str) -> str:
        value = value.strip().upper()
        if value and not GSTIN_PATTERN.fullmatch(value):
            raise ValueError("SELLER_GSTIN must be a 15-character GSTIN such as 29ABCDE1234F1Z5")
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
        if self.CRM_API_TOKEN == DEV_CRM_TOKEN or len(self.CRM_API_TOKEN.encode()) < 32:
            # An empty or short token is as guessable as the development one (issue 14).
            problems.append("CRM_API_TOKEN")
        if not self.razorpay_enabled:
            # Without real keys production would run the sandbox checkout: seats for free.
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


# Exit status of a process that refuses to start in production (systemd: RestartPreventExitStatus=3).
EXIT_INSECURE_SETTINGS = 3


def exit_unless_production_ready(settings: Settings | None = None) -> None:
    """Operators want the refusal alone on one line and a non-zero status, not a traceback."""
    try:
        (settings or get_settings()).check_production_ready()
    except InsecureSettingsError as error:
        print(str(error), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_INSECURE_SETTINGS) from None
