"""The CRM service's HTTP API (spec endpoints 22-27, plus an open GET /health)."""

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from crm_service import db
from crm_service.body_limit import BodySizeLimit
from crm_service.emails import account_email, test_email
from crm_service.errors import ApiError, install_error_handlers, validation_error
from crm_service.mailer import Mailer, MailError
from crm_service.models import Notification
from crm_service.notifications import NotificationService, NotifyOutcome
from crm_service.payloads import (
    ACCOUNT_EMAIL_REQUIRED_FIELDS,
    ALLOWED_ACTIONS,
    NOTIFY_REQUIRED_FIELDS,
    NOTIFY_REQUIRED_NESTED,
    TEST_EMAIL_REQUIRED_FIELDS,
    AccountEmailRequest,
    NotifyRequest,
    TestEmailRequest,
    find_missing_fields,
    validation_details,
)
from crm_service.request_log import RequestIdMiddleware
from crm_service.settings import CrmSettings, get_settings

Model = TypeVar("Model", bound=BaseModel)
log = logging.getLogger("crm_service")

NOTIFY_MESSAGES = {
    "sent": "Notification sent successfully",
    "saved": "Notification recorded; SMTP is not configured, so the email was saved locally and not sent",
    "failed": "Notification recorded but the email could not be sent; repeat the request "
    "with the same idempotency_key to retry",
    "pending": "Notification is being delivered by another request; repeat the request later for the result",
}


# Documented in the OpenAPI schema (built in-process, not served) for the fuzzing suite.
_ERROR_BODY = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}}}}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, **_ERROR_BODY}
    for status, description in ((400, "Validation error"), (401, "Missing or wrong token"),
                                (404, "Not found"), (413, "Request body too large"),
                                (502, "The SMTP server refused or failed"))
}


def create_app() -> FastAPI:
    # The database engine reads the same cached settings (crm_service.db.get_engine).
    settings = get_settings()
    if not settings.token_usable:
        logging.getLogger("crm_service").warning(
            "CRM_API_TOKEN is empty or shorter than 12 bytes: every protected request is refused")
    mailer = Mailer(settings)
    service = NotificationService(mailer, settings.sender_address, settings.smtp_timeout_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(db.migrate, settings.crm_database_url)
        yield

    # No /docs or /openapi.json: every route but /health needs the token.
    app = FastAPI(
        title="CRM service",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings, app.state.mailer, app.state.service = settings, mailer, service
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.crm_max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(protected_routes(), dependencies=[Depends(require_token)],
                       responses=ERROR_RESPONSES)
    app.add_api_route("/health", health, methods=["GET"])
    return app


def require_token(request: Request) -> None:
    settings: CrmSettings = request.app.state.settings
    expected = settings.crm_api_token.encode()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # compare_digest: the time taken does not reveal how much of the token matched. An empty or
    # short configured token authenticates nobody (an empty one would match an empty header).
    if (
        not settings.token_usable
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token.strip().encode(), expected)
    ):
        raise ApiError(401, {"error": "Invalid or expired token"})


async def health() -> JSONResponse:
    def database_ok() -> bool:
        try:
            with db.get_engine().connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    healthy = await asyncio.to_thread(database_ok)
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "service": "crm",
        "database": "ok" if healthy else "unreachable",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return JSONResponse(body, 200 if healthy else 503)


def protected_routes() -> APIRouter:
    router = APIRouter()
    router.add_api_route("/notify", notify, methods=["POST"])
    router.add_api_route("/notifications", list_notifications, methods=["GET"])
    # "clear" is registered before the {id} route, and the id only matches digits.
    router.add_api_route("/notifications/clear", clear_notifications, methods=["DELETE"])
    router.add_api_route("/notifications/{notification_id:int}", delete_notification, methods=["DELETE"])
    router.add_api_route("/test-email", send_test_email, methods=["POST"])
    router.add_api_route("/account-email", send_account_email, methods=["POST"])
    router.add_api_route("/test-gmail-auth", check_smtp_login, methods=["GET"])
    return router


async def notify(request: Request) -> dict[str, Any]:
    body = await read_json_object(request)
    require_fields(body, NOTIFY_REQUIRED_FIELDS, NOTIFY_REQUIRED_NESTED)
    if not isinstance(body["action"], str) or body["action"] not in ALLOWED_ACTIONS:
        raise ApiError(400, {"error": "Unknown action", "allowed_actions": list(ALLOWED_ACTIONS)})
    notify_request = parse_model(NotifyRequest, body)
    service: NotificationService = request.app.state.service
    outcome = await asyncio.to_thread(service.notify, notify_request, json.dumps(body))
    log.info("notification %s for booking %s (%s): %s%s", notify_request.idempotency_key,
             notify_request.booking_id, notify_request.action, outcome.status,
             " (repeat)" if outcome.duplicate else "")
    return notify_response(outcome)


def notify_response(outcome: NotifyOutcome) -> dict[str, Any]:
    response: dict[str, Any] = {
        "message": NOTIFY_MESSAGES[outcome.status],
        "notification_id": outcome.notification_id,
        "email_sent": outcome.status == "sent",
        "status": outcome.status,
        "duplicate": outcome.duplicate,
    }
    if outcome.status == "failed":
        response["email_error"] = outcome.response
    return response


async def list_notifications(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,  # bounded: the database's BIGINT
) -> dict[str, Any]:
    service: NotificationService = request.app.state.service
    rows, total = await asyncio.to_thread(service.list_notifications, limit, offset)
    return {
        "notifications": [notification_summary(row) for row in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


def notification_summary(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "booking_id": notification.booking_id,
        "action": notification.action,
        "status": notification.status,
        "created_at": _iso(notification.created_at),
        "sent_at": _iso(notification.sent_at),
        "response": notification.response,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


async def delete_notification(request: Request, notification_id: int) -> dict[str, str]:
    service: NotificationService = request.app.state.service
    if not await asyncio.to_thread(service.delete_notification, notification_id):
        raise ApiError(404, {"error": "Notification not found"})
    return {"message": "Notification deleted successfully"}


async def clear_notifications(request: Request) -> dict[str, Any]:
    service: NotificationService = request.app.state.service
    deleted = await asyncio.to_thread(service.clear_notifications)
    return {"message": "All notifications cleared", "deleted_count": deleted}


async def send_account_email(request: Request) -> JSONResponse:
    """Issue 14: the Booking app's verification and password-reset emails. Not recorded as
    notifications: the link inside is a credential, so it is sent and forgotten."""
    body = await read_json_object(request)
    require_fields(body, ACCOUNT_EMAIL_REQUIRED_FIELDS)
    wanted = parse_model(AccountEmailRequest, body)
    settings: CrmSettings = request.app.state.settings
    mailer: Mailer = request.app.state.mailer
    message = account_email(settings.sender_address, wanted)
    [result] = await asyncio.to_thread(mailer.deliver, [(wanted.to_email, message)])
    if result.saved_to is not None:
        return JSONResponse({"message": "SMTP is not configured; the email was saved locally",
                             "status": "saved", "email_sent": False})
    if not result.success:
        return JSONResponse({"error": "Email could not be sent", "message": result.error,
                             "status": "failed", "email_sent": False}, 502)
    return JSONResponse({"message": "Email sent", "status": "sent", "email_sent": True})


async def send_test_email(request: Request) -> JSONResponse:
    body = await read_json_object(request)
    require_fields(body, TEST_EMAIL_REQUIRED_FIELDS)
    test = parse_model(TestEmailRequest, body)
    settings: CrmSettings = request.app.state.settings
    mailer: Mailer = request.app.state.mailer
    message = test_email(settings.sender_address, test.to_email, test.subject, test.html_content)
    [result] = await asyncio.to_thread(mailer.deliver, [(test.to_email, message)])
    if result.saved_to is not None:
        return JSONResponse(
            {
                "message": "SMTP is not configured; the test email was saved locally, not sent",
                "email_sent": False,
                "saved_to": str(result.saved_to),
            }
        )
    if not result.success:
        return JSONResponse(
            {
                "error": "Test email could not be sent",
                "message": result.error,
                "email_sent": False,
            },
            502,
        )
    return JSONResponse({"message": "Test email sent successfully", "email_sent": True})


async def check_smtp_login(request: Request) -> JSONResponse:
    settings: CrmSettings = request.app.state.settings
    mailer: Mailer = request.app.state.mailer
    if not settings.smtp_enabled:
        error = (
            "SMTP is not configured (SMTP_HOST is empty); emails are saved as .eml files "
            "instead of being sent"
        )
        return JSONResponse({"error": error, "authenticated": False}, 400)
    if not settings.smtp_username or not settings.smtp_password:
        error = "SMTP_USERNAME and SMTP_PASSWORD must both be set to authenticate"
        return JSONResponse({"error": error, "authenticated": False}, 400)
    try:
        await asyncio.to_thread(mailer.check_login)
    except MailError as exc:
        return JSONResponse({"error": str(exc), "authenticated": False}, 502)
    return JSONResponse(
        {
            "message": "Gmail authentication successful",
            "authenticated": True,
            "gmail_user": settings.smtp_username,
            "smtp_host": settings.smtp_host,
        }
    )


async def read_json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except ValueError:
        raise validation_error({"body": "Request body must be valid JSON"}) from None
    if not isinstance(data, dict):
        raise validation_error({"body": "Request body must be a JSON object"})
    return data


def require_fields(
    body: dict[str, Any],
    required: tuple[str, ...],
    nested: Mapping[str, tuple[str, ...]] | None = None,
) -> None:
    missing = find_missing_fields(body, required, nested)
    if missing:
        raise ApiError(400, {"error": "Missing required fields", "missing_fields": missing})


def parse_model(model: type[Model], body: dict[str, Any]) -> Model:
    try:
        return model.model_validate(body)
    except PydanticValidationError as exc:
        raise validation_error(validation_details(exc)) from None


app = create_app()
