"""Typed domain errors. Services raise them; the API maps them to the documented bodies in one
place and the Reflex states show `message` to the person."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.extra}


class BadRequest(DomainError):
    status_code = 400


class ValidationFailed(DomainError):
    """Field-level problems: 400 {"error": "Validation error", "details": {field: message}}."""

    status_code = 400

    def __init__(self, details: dict[str, str]) -> None:
        super().__init__("Validation error", details=details)
        self.details = details


class Unauthorized(DomainError):
    status_code = 401

    def __init__(self, message: str = "Invalid or expired token", **extra: Any) -> None:
        super().__init__(message, **extra)


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, message: str = "Insufficient permissions", **extra: Any) -> None:
        super().__init__(message, **extra)


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "Resource not found", **extra: Any) -> None:
        super().__init__(message, **extra)


class TooManyRequests(DomainError):
    status_code = 429


class GatewayError(DomainError):
    """The payment gateway refused or failed; nothing was changed on our side."""

    status_code = 502


class ServiceUnavailable(DomainError):
    status_code = 503

    def __init__(
        self, message: str = "Service temporarily unavailable, please retry", **extra: Any
    ) -> None:
        super().__init__(message, **extra)


class NotConfigured(DomainError):
    status_code = 501
