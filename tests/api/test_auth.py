"""Endpoints 1, 2, 5 over HTTP: register, login, refresh, and token rules."""

from __future__ import annotations

import base64
import json
import time

import jwt

from tests.support.api import PASSWORD, login, new_attendee, unique_email


def test_register_answers_201_with_documented_user(api):
    email = unique_email()
    response = api.post("/auth/register", json={"email": email, "password": PASSWORD, "name": "John Doe"})
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "User registered successfully"
    assert set(body["user"]) == {"id", "email", "name", "role", "email_verified"}
    assert body["user"]["email_verified"] is False  # issue 14: until the emailed link is followed
    assert body["user"]["email"] == email
    assert body["user"]["name"] == "John Doe"
    assert body["user"]["role"] == "user"
    assert isinstance(body["user"]["id"], int)


def test_register_same_email_twice_is_refused(api):
    email = unique_email()
    first = api.post("/auth/register", json={"email": email, "password": PASSWORD, "name": "A"})
    assert first.status_code == 201
    again = api.post("/auth/register", json={"email": email.upper(), "password": PASSWORD, "name": "B"})
    assert again.status_code == 400
    assert again.json() == {"error": "Email already exists"}


def test_register_cannot_choose_a_role(api):
    response = api.post("/auth/register", json={
        "email": unique_email(), "password": PASSWORD, "name": "Sneaky", "role": "facilitator"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation error"
    assert "role" in body["details"]


def test_register_validation_errors_name_each_field(api):
    response = api.post("/auth/register", json={"email": "not-an-email", "password": "short", "name": ""})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation error"
    assert set(body["details"]) == {"email", "password", "name"}


def test_register_missing_fields(api):
    response = api.post("/auth/register", json={"email": unique_email()})
    assert response.status_code == 400
    details = response.json()["details"]
    assert details["password"] == "This field is required"
    assert details["name"] == "This field is required"


def test_login_returns_tokens_and_user(api):
    account = new_attendee(api, name="Login Person")
    response = api.post("/auth/login", json={"email": account.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "user"}
    assert body["user"] == {"id": account.id, "email": account.email, "name": "Login Person", "role": "user",
                            "email_verified": False}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["type"] == "access" and claims["jti"]
    assert 23.9 * 3600 < claims["exp"] - claims["iat"] <= 24 * 3600
    refresh_claims = jwt.decode(body["refresh_token"], options={"verify_signature": False})
    assert refresh_claims["type"] == "refresh"
    assert 29.9 * 86400 < refresh_claims["exp"] - refresh_claims["iat"] <= 30 * 86400


def test_login_wrong_password_and_unknown_email_look_the_same(api):
    account = new_attendee(api)
    wrong = api.post("/auth/login", json={"email": account.email, "password": "wrong-password"})
    unknown = api.post("/auth/login", json={"email": unique_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "Invalid credentials"}


def test_repeated_failed_logins_are_throttled(api):
    account = new_attendee(api)
    for _ in range(5):
        assert api.post("/auth/login", json={"email": account.email, "password": "nope-nope"}).status_code == 401
    blocked = api.post("/auth/login", json={"email": account.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "error" in blocked.json() and "Too many" in blocked.json()["error"]


def test_refresh_rotates_and_a_spent_token_is_refused(api):
    account = new_attendee(api)
    first = api.post("/auth/refresh", headers={"Authorization": f"Bearer {account.refresh_token}"})
    assert first.status_code == 200
    body = first.json()
    assert body["user"]["id"] == account.id
    assert body["access_token"] and body["refresh_token"] != account.refresh_token
    assert api.get("/profile", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
    replay = api.post("/auth/refresh", headers={"Authorization": f"Bearer {account.refresh_token}"})
    assert replay.status_code == 401
    assert replay.json() == {"error": "Invalid or expired token"}
    second = api.post("/auth/refresh", headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert second.status_code == 200


def test_access_token_is_not_a_refresh_token_and_vice_versa(api):
    account = new_attendee(api)
    as_refresh = api.post("/auth/refresh", headers={"Authorization": f"Bearer {account.access_token}"})
    assert as_refresh.status_code == 401
    as_access = api.get("/profile", headers={"Authorization": f"Bearer {account.refresh_token}"})
    assert as_access.status_code == 401
    assert as_access.json() == {"error": "Invalid or expired token"}


def _forge(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def test_tampered_unsigned_and_expired_tokens_are_refused(api):
    account = new_attendee(api)
    tampered = _forge(account.access_token, sub="1")
    none_alg = jwt.encode({"sub": str(account.id), "type": "access", "jti": "x", "iat": int(time.time()),
                           "exp": int(time.time()) + 600}, key=None, algorithm="none")
    expired = jwt.encode({"sub": str(account.id), "type": "access", "jti": "y", "iat": int(time.time()) - 7200,
                          "exp": int(time.time()) - 3600}, "dev-only-jwt-secret-change-me-0123456789abcdef",
                         algorithm="HS256")
    for token in (tampered, none_alg, expired, "garbage", "a.b.c"):
        response = api.get("/profile", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json() == {"error": "Invalid or expired token"}
    assert api.get("/profile").status_code == 401


def test_deactivated_user_tokens_stop_working(api):
    from crm_booking.db import transaction
    from crm_booking.models import User

    account = new_attendee(api)
    with transaction() as session:
        user = session.get(User, account.id)
        user.is_active = False
        session.add(user)
    assert api.get("/profile", headers=account.headers).status_code == 401
    refreshed = api.post("/auth/refresh", headers={"Authorization": f"Bearer {account.refresh_token}"})
    assert refreshed.status_code == 401
    assert api.post("/auth/login", json={"email": account.email, "password": PASSWORD}).status_code == 401


def test_bcrypt_hashes_from_an_older_system_still_log_in(api):
    import bcrypt

    from crm_booking.db import transaction
    from crm_booking.models import User

    email = unique_email("legacy")
    legacy_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    with transaction() as session:
        session.add(User(email=email, password_hash=legacy_hash, name="Legacy"))
    account = login(api, email)
    assert account.id
    with transaction() as session:
        from sqlmodel import select

        upgraded = session.exec(select(User).where(User.email == email)).one()
        assert upgraded.password_hash.startswith("$argon2")
