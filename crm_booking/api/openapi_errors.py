"""Make /openapi.json tell the truth about failures.

FastAPI documents a 422 that this API never sends (validation errors are 400 in the spec's
shape) and none of the errors it does send. Clients and the fuzzing suite read the schema, so
every operation gets the error answers the error handlers can produce, with their bodies.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "details": {"type": "object", "additionalProperties": {"type": "string"}},
        "message": {"type": "string"},
    },
}

ERROR_RESPONSES = {
    "400": "Validation error or a refused request",
    "401": "Missing, invalid or expired token; invalid credentials",
    "403": "Insufficient permissions",
    "404": "Resource not found",
    "413": "Request body too large",
    "429": "Too many requests (login throttling, unpaid hold cap)",
    "500": "Internal server error",
    "502": "A gateway (Razorpay, Google) failed",
    "503": "Service temporarily unavailable (database), retry",
}
# Only the endpoints that depend on an optional integration may answer that it is not set up.
NOT_CONFIGURED_PATHS = ("/auth/google", "/auth/google/callback")


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _document_errors(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    for status, description in ERROR_RESPONSES.items():
        responses.setdefault(status, _error_response(description))
    if path in NOT_CONFIGURED_PATHS:
        responses.setdefault("501", _error_response("Google sign-in is not configured"))


# Public reads that take a token only to decide what to show (the join link, issue 15): the
# token is optional, which OpenAPI says with an empty requirement beside the bearer one.
OPTIONAL_AUTH = {("get", "/events"), ("get", "/events/{event_id}")}


def install(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = get_openapi(title=api.title, version=api.version,
                                 description=api.description, routes=api.routes)
            schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
            for component in ("HTTPValidationError", "ValidationError"):
                schema["components"]["schemas"].pop(component, None)
            for path, operations in schema.get("paths", {}).items():
                for method, operation in operations.items():
                    _document_errors(path, operation)
                    if (method, path) in OPTIONAL_AUTH:
                        operation["security"] = [{}, *operation.get("security", [])]
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
