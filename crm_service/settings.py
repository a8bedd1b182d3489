"""Settings for the CRM service, read once from the environment (and a `.env` file if present)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_API_TOKEN = "super-crm-token"
GMAIL_SMTP_HOST = "smtp.gmail.com"
# A token shorter than this never authenticates (an empty one would match an empty header);
# production needs a generated secret of at least PRODUCTION_TOKEN_BYTES.
MIN_TOKEN_BYTES = 12
PRODUCTION_TOKEN_BYTES = 32


class CrmSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    app_env: Literal["development", "production", "test"] = "development"
    crm_host: str = "0.0.0.0"  # noqa: S104 - a network service; CRM_HOST=127.0.0.1 narrows it
    crm_port: int = Field(default=5001, ge=1, le=65535)
    crm_database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'crm_service.db'}"
    crm_api_token: str = DEFAULT_API_TOKEN
    # Bodies above this are refused with 413 before any parsing.
    crm_max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    # Empty SMTP_HOST means "no SMTP": emails are written as .eml files to EMAIL_OUTBOX_DIR.
    # Gmail: SMTP_HOST=smtp.gmail.com, port 587 with STARTTLS, an app password as SMTP_PASSWORD.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    # Extra CA bundle to trust (PEM); lets tests trust a self-signed loopback server.
    smtp_tls_ca_file: str = ""
    email_from: str = ""
    email_outbox_dir: str = str(PROJECT_ROOT / "data" / "outbox-mail")
    # "json": one JSON object a line (with the request id); "text" for people.
    log_format: Literal["text", "json"] = "text"

    @model_validator(mode="after")
    def _refuse_default_token_in_production(self) -> "CrmSettings":
        if self.app_env == "production" and self.crm_api_token == DEFAULT_API_TOKEN:
            raise ValueError(
                "CRM_API_TOKEN is still the default 'super-crm-token'; "
                "set a secret token before running with APP_ENV=production"
            )
        if self.app_env == "production" and len(self.crm_api_token.encode()) < PRODUCTION_TOKEN_BYTES:
            raise ValueError(
                f"CRM_API_TOKEN must be at least {PRODUCTION_TOKEN_BYTES} bytes with APP_ENV=production "
                "(generate one, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self

    @property
    def token_usable(self) -> bool:
        return len(self.crm_api_token.encode()) >= MIN_TOKEN_BYTES

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host.strip())

    @property
    def sender_address(self) -> str:
        """From address: EMAIL_FROM, else the SMTP login (what Gmail would rewrite it to anyway)."""
        return self.email_from or self.smtp_username or "no-reply@crm-booking.invalid"


@lru_cache(maxsize=1)
def get_settings() -> CrmSettings:
    return CrmSettings()
