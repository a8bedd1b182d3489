"""Google as an OpenID Connect provider: discovery, the authorization URL, the code exchange and
ID-token validation.

Only protocol work lives here; who gets signed in is decided in `services.auth`. The OAuth 2.0
client is authlib's; ID tokens are verified with joserfc (authlib's JOSE library since
`authlib.jose` was deprecated) and their claims with authlib's OpenID `CodeIDToken` rules.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from crm_booking import clock
from crm_booking.settings import get_settings

SCOPE = "openid email profile"
# Google signs ID tokens with RS256 only; pinning it refuses "none" and HS/RS confusion.
ID_TOKEN_ALGORITHMS = ["RS256"]
HTTP_TIMEOUT_SECONDS = 10.0
# Google rotates its keys every few days and serves discovery with a cache lifetime of an hour.
CACHE_TTL_SECONDS = 3600.0
CLOCK_SKEW_SECONDS = 60
GOOGLE_ISSUER = "https://accounts.google.com"


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with something unusable."""


class CodeRejected(Exception):
    """The token endpoint refused the authorization code (expired, reused, wrong client)."""


class InvalidIdToken(Exception):
    """The ID token's signature or claims do not hold."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class GoogleIdentity:
    subject: str
    email: str
    email_verified: bool
    name: str
    picture: str | None
    hosted_domain: str | None = None  # the `hd` claim: a Google Workspace domain


class _TimedCache:
    """One value per key, refetched after `ttl` seconds; shared by the threads of a worker."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[1]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_metadata_cache = _TimedCache(CACHE_TTL_SECONDS)
_jwks_cache = _TimedCache(CACHE_TTL_SECONDS)


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(f"GET {url} failed: {type(exc).__name__}") from exc
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"GET {url} did not return a JSON object")
    return body


def discover() -> ProviderMetadata:
    url = get_settings().GOOGLE_DISCOVERY_URL
    cached = _metadata_cache.get(url)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    document = _get_json(url)
    try:
        metadata = ProviderMetadata(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
        )
    except KeyError as exc:
        raise ProviderUnavailable(f"discovery document lacks {exc}") from exc
    _metadata_cache.put(url, metadata)
    return metadata


def _key_set(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    cached = None if refresh else _jwks_cache.get(jwks_uri)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        key_set = KeySet.import_key_set(_get_json(jwks_uri))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise ProviderUnavailable("the provider's JWKS could not be read") from exc
    _jwks_cache.put(jwks_uri, key_set)
    return key_set


def _oauth_session() -> OAuth2Session:
    settings = get_settings()
    return OAuth2Session(
        client_id=settings.GOOGLE_CLIENT_ID,
        client_secret=settings.GOOGLE_CLIENT_SECRET,
        token_endpoint_auth_method="client_secret_post",
        scope=SCOPE,
        redirect_uri=settings.google_redirect_url,
    )


def authorization_url(*, state: str, nonce: str) -> str:
    metadata = discover()
    with _oauth_session() as session:
        url, _ = session.create_authorization_url(
            metadata.authorization_endpoint, state=state, nonce=nonce
        )
    return str(url)


def _exchange_code(metadata: ProviderMetadata, code: str) -> dict[str, Any]:
    with _oauth_session() as session:
        try:
            token = session.fetch_token(
                metadata.token_endpoint, code=code, grant_type="authorization_code",
                timeout=HTTP_TIMEOUT_SECONDS,
            )
        except OAuthError as exc:
            raise CodeRejected(str(exc.error)) from exc
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"token endpoint failed: {type(exc).__name__}") from exc
    if not isinstance(token.get("id_token"), str):
        raise ProviderUnavailable("token endpoint returned no id_token")
    return dict(token)


def _decode_signed(id_token: str, jwks_uri: str) -> jwt.Token:
    registry = JWSRegistry(algorithms=ID_TOKEN_ALGORITHMS)
    try:
        return jwt.decode(id_token, _key_set(jwks_uri), registry=registry)
    except InvalidKeyIdError:
        # Google rotated its keys since we cached them: fetch once more, then give up.
        try:
            return jwt.decode(id_token, _key_set(jwks_uri, refresh=True), registry=registry)
        except JoseError as exc:
            raise InvalidIdToken(exc.error) from exc
    except (JoseError, ValueError) as exc:
        raise InvalidIdToken(getattr(exc, "error", type(exc).__name__)) from exc


def _accepted_issuers(issuer: str) -> list[str]:
    # Google documents that its ID tokens may carry the issuer without the scheme as well.
    if issuer == GOOGLE_ISSUER:
        return [issuer, GOOGLE_ISSUER.removeprefix("https://")]
    return [issuer]


def verify_id_token(id_token: str, *, nonce: str, access_token: str | None,
                    metadata: ProviderMetadata) -> dict[str, Any]:
    """Signature via the JWKS, then iss, aud (and azp), exp, iat, nonce and at_hash."""
    token = _decode_signed(id_token, metadata.jwks_uri)
    options: dict[str, Any] = {
        "iss": {"essential": True, "values": _accepted_issuers(metadata.issuer)},
        "aud": {"essential": True, "value": get_settings().GOOGLE_CLIENT_ID},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    params = {"nonce": nonce, "client_id": get_settings().GOOGLE_CLIENT_ID}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        # Our clock, so expiry agrees with every other time check in the app.
        claims.validate(now=int(clock.now().timestamp()), leeway=CLOCK_SKEW_SECONDS)
    except (JoseError, ValueError) as exc:
        raise InvalidIdToken(getattr(exc, "error", type(exc).__name__)) from exc
    # The nonce is always sent, so a token without one cannot belong to this sign-in.
    if claims.get("nonce") != nonce:
        raise InvalidIdToken("nonce")
    return dict(claims)


def _identity(claims: dict[str, Any]) -> GoogleIdentity:
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise InvalidIdToken("email")
    picture = claims.get("picture")
    return GoogleIdentity(
        subject=str(claims["sub"]),
        email=email,
        # Only a JSON true counts; a missing claim or the string "true" does not.
        email_verified=claims.get("email_verified") is True,
        name=str(claims.get("name") or ""),
        picture=picture if isinstance(picture, str) and picture else None,
        hosted_domain=claims["hd"] if isinstance(claims.get("hd"), str) and claims["hd"] else None,
    )


def identity_from_code(code: str, *, nonce: str) -> GoogleIdentity:
    """Exchange the authorization code and return the verified identity it stands for."""
    metadata = discover()
    token = _exchange_code(metadata, code)
    claims = verify_id_token(token["id_token"], nonce=nonce,
                             access_token=token.get("access_token"), metadata=metadata)
    return _identity(claims)


def clear_caches() -> None:
    _metadata_cache.clear()
    _jwks_cache.clear()
