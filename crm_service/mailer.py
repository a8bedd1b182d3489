"""Delivery over SMTP (smtplib, blocking: call it from a worker thread) or to a local .eml folder."""

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from uuid import uuid4

from crm_service.settings import CrmSettings

logger = logging.getLogger(__name__)


class MailError(Exception):
    """A delivery problem, described without secrets."""


@dataclass
class DeliveryResult:
    recipient: str
    success: bool
    error: str | None = None
    saved_to: Path | None = None


class Mailer:
    def __init__(self, settings: CrmSettings) -> None:
        self.settings = settings

    def deliver(self, emails: list[tuple[str, EmailMessage]]) -> list[DeliveryResult]:
        """Send (recipient, message) pairs over one connection; one result per pair."""
        if not self.settings.smtp_enabled:
            return [self._save_locally(recipient, msg) for recipient, msg in emails]
        results: list[DeliveryResult] = []
        try:
            with self._open_session() as smtp:
                for recipient, message in emails:
                    results.append(self._send_one(smtp, recipient, message))
        except (smtplib.SMTPException, OSError) as exc:
            error = self.describe(exc)
            logger.warning("SMTP delivery failed: %s", error)
            # Messages already accepted keep their success; only the rest failed.
            unsent = emails[len(results) :]
            results += [DeliveryResult(recipient, False, error) for recipient, _ in unsent]
        return results

    def check_login(self) -> None:
        """Connect, STARTTLS and log in, sending nothing. Raises MailError."""
        try:
            with self._open_session():
                pass
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(self.describe(exc)) from exc

    def _open_session(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.smtp_tls_ca_file:
            context.load_verify_locations(cafile=self.settings.smtp_tls_ca_file)
        return context

    def _send_one(self, smtp: smtplib.SMTP, recipient: str, message: EmailMessage) -> DeliveryResult:
        try:
            refused = smtp.send_message(message, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            return DeliveryResult(recipient, False, self.describe(exc))
        except smtplib.SMTPResponseException as exc:
            # The server refused this message; the session is still usable for the next one.
            return DeliveryResult(recipient, False, self.describe(exc))
        if refused:
            return DeliveryResult(recipient, False, f"Recipient refused: {refused}")
        return DeliveryResult(recipient, True)

    def _save_locally(self, recipient: str, message: EmailMessage) -> DeliveryResult:
        outbox = Path(self.settings.email_outbox_dir)
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = outbox / f"{stamp}-{uuid4().hex[:8]}.eml"
        path.write_bytes(message.as_bytes())
        logger.info("SMTP not configured; email to %s saved to %s", recipient, path)
        return DeliveryResult(recipient, False, None, saved_to=path)

    def describe(self, exc: BaseException) -> str:
        """A readable reason that never contains the SMTP password."""
        settings = self.settings
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            text = f"SMTP authentication failed ({exc.smtp_code}): {_decode(exc.smtp_error)}"
        elif isinstance(exc, smtplib.SMTPRecipientsRefused):
            text = f"Recipient refused: {', '.join(exc.recipients)}"
        elif isinstance(exc, smtplib.SMTPResponseException):
            text = f"SMTP error ({exc.smtp_code}): {_decode(exc.smtp_error)}"
        elif isinstance(exc, ssl.SSLError):
            text = f"TLS error with the SMTP server: {exc.reason or exc}"
        elif isinstance(exc, TimeoutError):
            text = f"Timed out talking to the SMTP server after {settings.smtp_timeout_seconds}s"
        elif isinstance(exc, OSError):
            server = f"{settings.smtp_host}:{settings.smtp_port}"
            text = f"Could not connect to the SMTP server {server}: {exc.strerror or exc}"
        else:
            text = f"SMTP error: {exc}"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        password = self.settings.smtp_password
        return text.replace(password, "***") if password else text


def _decode(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
