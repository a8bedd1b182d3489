"""A real SMTP server on loopback (aiosmtpd) with STARTTLS and AUTH LOGIN/PLAIN, for tests.

It keeps every message it accepts, parsed, so tests can assert on what actually arrived.
Switches (`accept_logins`, `rejected_recipients`) let a test break and mend delivery.
"""

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# aiosmtpd 1.4 itself sets its deprecated Session.login_data after every successful
# AUTH; tests using this server ignore exactly that warning (pytest.mark.filterwarnings).
AIOSMTPD_LOGIN_DATA_WARNING = "ignore:Session.login_data is deprecated:DeprecationWarning"


@dataclass
class ReceivedMessage:
    mail_from: str
    recipients: list[str]
    message: EmailMessage
    over_tls: bool
    login: str | None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost; clients trust it by loading it as their CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    alt_names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class FakeSmtpServer:
    def __init__(self, directory: Path, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.cert_file, key_file = write_self_signed_cert(directory)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert_file, key_file)
        self.host, self.port = "127.0.0.1", free_port()
        self.accept_logins = True
        self.rejected_recipients: set[str] = set()
        self.login_attempts = 0
        self.messages: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(
            self,
            hostname=self.host,
            port=self.port,
            server_hostname="localhost",
            tls_context=tls,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        with self._lock:
            return [m for m in self.messages if address in m.recipients]

    def _authenticate(
        self,
        _server: SMTP,
        _session: Session,
        _envelope: Envelope,
        _mechanism: str,
        data: Any,
    ) -> AuthResult:
        self.login_attempts += 1
        valid = (
            isinstance(data, LoginPassword)
            and data.login == self.username.encode()
            and data.password == self.password.encode()
        )
        # handled=False: let aiosmtpd answer "535 Authentication credentials invalid".
        return AuthResult(success=self.accept_logins and valid, handled=False, auth_data=data)

    # aiosmtpd handler hooks
    async def handle_RCPT(
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _options: list[str],
    ) -> str:
        if address in self.rejected_recipients:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        received = ReceivedMessage(
            mail_from=str(envelope.mail_from),
            recipients=list(envelope.rcpt_tos),
            message=parsed,
            over_tls=session.ssl is not None,
            login=login,
        )
        with self._lock:
            self.messages.append(received)
        return "250 Message accepted"
