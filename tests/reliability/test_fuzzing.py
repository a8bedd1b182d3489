"""Guarantee 1: property-based fuzzing of both services from their OpenAPI schemas.

Every operation gets schema-valid and schema-invalid requests (derandomized, bounded), sent as
an attendee and as a facilitator, and every answer must: not be a 5xx, use a documented status
code, match the documented schema and content type, refuse invalid data with a 4xx, use the
`{"error": ...}` shape when it is an error, and carry no secret.

`positive_data_acceptance` is left out on purpose: schema-valid requests are refused by business
rules the schema cannot express (an event in the past, an empty name, a full event), with a
documented 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from tests.crm.conftest import TOKEN, CrmProcess
from tests.fakes.smtp_server import FakeSmtpServer
from tests.reliability.conftest import Stack, leaked_secrets, start_crm_with_mail
from tests.support import api as client_api

EXAMPLES_PER_OPERATION = 25
FUZZ_SETTINGS = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
                         database=None, suppress_health_check=list(HealthCheck))


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error answer is a JSON object with an "error" string (the spec's error shape)."""
    if response.status_code < 400:
        return None
    body = response.json()
    if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
        raise AssertionError(f"error answer not in the error shape: {response.text[:300]}")
    return True


@schemathesis.check
def no_secrets(ctx: Any, response: Any, case: Any) -> bool | None:
    leaks = leaked_secrets(response.text)
    if leaks:
        raise AssertionError(f"response leaked {leaks}")
    return True


def load(schema: Any) -> Any:
    """Unknown query parameters are ignored by both services (as HTTP clients expect), and the
    token is always sent: so neither counts as "invalid data" that must be refused."""
    schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    return schema


# Ends every token of the fuzzing account, so every later operation would only see 401; it takes
# no input, and tests/accounts/test_passwords.py::test_sign_out_everywhere covers it.
NOT_FUZZED = ("/auth/logout-all",)


def fuzz(schema: Any, headers: dict[str, str], base_url: str) -> dict[str, str]:
    """Run every operation; returns {operation: failure report} for the ones that failed."""
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in NOT_FUZZED:
            continue
        cases = st.one_of(operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
                          operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))
        try:
            _run(cases, headers, base_url)
        except BaseException as exc:  # hypothesis re-raises schemathesis' FailureGroup
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures[operation.label] = str(exc)[:2000]
    return failures


def _run(cases: Any, headers: dict[str, str], base_url: str) -> None:
    @FUZZ_SETTINGS
    @given(case=cases)
    def call(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, timeout=20,
                               additional_checks=[error_shape, no_secrets],
                               excluded_checks=[positive_data_acceptance])

    call()


def report(failures: dict[str, str]) -> str:
    return "\n\n".join(f"=== {label}\n{text}" for label, text in failures.items())


@pytest.fixture(scope="module")
def booking_schema(rel: Stack) -> Any:
    return load(schemathesis.openapi.from_url(f"{rel.url}/openapi.json"))


def _facilitator_with_event(rel: Stack) -> client_api.Account:
    with rel.client() as client:
        facilitator = rel.facilitator(client, name="Fuzz Facilitator")
        rel.event(client, facilitator, price=0)
        return facilitator


def _attendee_with_booking(rel: Stack) -> client_api.Account:
    with rel.client() as client:
        attendee = rel.attendee(client, name="Fuzz Attendee")
        owner = rel.facilitator(client)
        event = rel.event(client, owner, price=0)
        assert client_api.book(client, attendee, event["id"]).status_code == 201
        return attendee


ROLES: dict[str, Callable[[Stack], client_api.Account]] = {
    "attendee": _attendee_with_booking, "facilitator": _facilitator_with_event,
}


@pytest.mark.parametrize("role", list(ROLES))
def test_booking_api_survives_fuzzing(rel: Stack, booking_schema: Any, role: str) -> None:
    account = ROLES[role](rel)
    # A spoofed client address of its own: the fuzzer's failed logins must not throttle the
    # loopback address the rest of the suite signs in from (the app trusts loopback proxies).
    headers = {**account.headers, "X-Forwarded-For": f"10.99.0.{1 + list(ROLES).index(role)}"}
    failures = fuzz(booking_schema, headers, rel.url)
    assert not failures, report(failures)


@pytest.fixture(scope="module")
def fuzz_crm(start_crm: Any, smtp_server: FakeSmtpServer) -> CrmProcess:
    """A CRM of its own (SQLite): the fuzzer clears and deletes notifications."""
    return start_crm_with_mail(start_crm, "sqlite:///crm-fuzz.db", smtp_server)


def test_crm_api_survives_fuzzing(fuzz_crm: CrmProcess) -> None:
    from crm_service.main import create_app

    # The service serves no /openapi.json; the schema is built in-process from the same app.
    schema = load(schemathesis.openapi.from_dict(create_app().openapi()))
    failures = fuzz(schema, {"Authorization": f"Bearer {TOKEN}"}, fuzz_crm.base_url)
    assert not failures, report(failures)
