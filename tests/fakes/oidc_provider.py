"""A real OpenID Connect provider on loopback that stands in for Google in tests.

It serves the discovery document, an `/authorize` endpoint that consents at once as a
configurable test identity (or denies), a `/token` endpoint that checks the client and the code
and returns an RS256-signed ID token, and the `/jwks` with the public key made at start.

Switches on `FakeOIDCProvider` break one thing at a time: the identity, the issuer, the
audience, the nonce, the expiry, the signature (signed by a different key under the same key
id), an unknown key id, key rotation, a code the token endpoint refuses, and a token endpoint
that drops the connection or answers 503.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class Identity:
    sub: str
    email: str
    email_verified: Any = True
    name: str = "Google Tester"
    picture: str | None = "https://lh3.googleusercontent.com/a/test-picture"
    hd: str | None = None  # Google Workspace domain claim


@dataclass
class IssuedCode:
    client_id: str
    redirect_uri: str
    nonce: str
    identity: Identity
    used: bool = False


@dataclass
class Switches:
    deny: bool = False
    wrong_issuer: bool = False
    wrong_audience: bool = False
    wrong_nonce: bool = False
    omit_nonce: bool = False
    expired: bool = False
    bad_signature: bool = False
    unknown_kid: bool = False
    reject_code: bool = False
    token_endpoint: str = "up"  # up | drop (close the connection) | 503


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})


class FakeOIDCProvider:
    def __init__(
        self,
        *,
        client_id: str = "test-client-id.apps.googleusercontent.com",
        client_secret: str = "test-client-secret",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.signing_key = _new_key()
        self.identity = Identity(sub="100000000000000000001", email="google.user@example.com")
        self.switches = Switches()
        self.codes: dict[str, IssuedCode] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.jwks_requests = 0
        self.discovery_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    def start(self) -> FakeOIDCProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Back to a working provider; the signing key stays (the app caches the JWKS)."""
        self.switches = Switches()
        self.authorize_requests.clear()
        self.token_requests.clear()

    def rotate_key(self) -> None:
        """Sign with a new key from now on and publish only that one, as Google does eventually."""
        self.signing_key = _new_key()

    # --- protocol -----------------------------------------------------------------------------

    def discovery_document(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "jwks_uri": f"{self.base_url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.signing_key.as_dict(private=False)]}

    def authorize(self, params: dict[str, str]) -> str:
        """The Location the consent screen would send the browser to."""
        self.authorize_requests.append(params)
        redirect_uri = params["redirect_uri"]
        if self.switches.deny:
            return f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': params['state']})}"
        code = secrets.token_urlsafe(24)
        self.codes[code] = IssuedCode(
            client_id=params["client_id"],
            redirect_uri=redirect_uri,
            nonce=params.get("nonce", ""),
            identity=self.identity,
        )
        return f"{redirect_uri}?{urlencode({'code': code, 'state': params['state']})}"

    def _client_credentials(self, form: dict[str, str], authorization: str | None) -> tuple[str, str]:
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        return form.get("client_id", ""), form.get("client_secret", "")

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        client_id, secret = self._client_credentials(form, authorization)
        if client_id != self.client_id or secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        issued = self.codes.get(form.get("code", ""))
        if (
            self.switches.reject_code
            or issued is None
            or issued.used
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != issued.redirect_uri
            or issued.client_id != client_id
        ):
            return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
        issued.used = True
        access_token = secrets.token_urlsafe(32)
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3599,
            "scope": "openid https://www.googleapis.com/auth/userinfo.email "
            "https://www.googleapis.com/auth/userinfo.profile",
            "id_token": self.id_token(issued, access_token),
        }

    def id_token(self, issued: IssuedCode, access_token: str) -> str:
        now = int(time.time())
        identity = issued.identity
        claims: dict[str, Any] = {
            "iss": "https://evil.example" if self.switches.wrong_issuer else self.issuer,
            "azp": self.client_id,
            "aud": "someone-elses-client-id" if self.switches.wrong_audience else self.client_id,
            "sub": identity.sub,
            "email": identity.email,
            "email_verified": identity.email_verified,
            "at_hash": create_half_hash(access_token, "RS256").decode(),
            "nonce": "not-the-nonce-you-sent" if self.switches.wrong_nonce else issued.nonce,
            "name": identity.name,
            "iat": now - 7200 if self.switches.expired else now,
            "exp": now - 3600 if self.switches.expired else now + 3600,
        }
        if identity.picture:
            claims["picture"] = identity.picture
        if identity.hd:
            claims["hd"] = identity.hd
        if self.switches.omit_nonce:
            del claims["nonce"]
        return self._sign(claims)

    def _sign(self, claims: dict[str, Any]) -> str:
        key = self.signing_key
        kid = key.kid
        if self.switches.bad_signature:
            key = _new_key()  # same kid as the published key, different private key
        if self.switches.unknown_kid:
            key = _new_key()
            kid = key.kid
        return jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, key)

    # --- HTTP ---------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output quiet

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    provider.discovery_requests += 1
                    self._json(200, provider.discovery_document())
                elif url.path == "/jwks":
                    provider.jwks_requests += 1
                    self._json(200, provider.jwks())
                elif url.path == "/authorize":
                    self._authorize(params)
                else:
                    self._json(404, {"error": "not_found"})

            def _authorize(self, params: dict[str, str]) -> None:
                required = ("client_id", "redirect_uri", "response_type", "scope", "state")
                if (
                    any(not params.get(name) for name in required)
                    or params["client_id"] != provider.client_id
                ):
                    self._json(400, {"error": "invalid_request"})
                    return
                self.send_response(302)
                self.send_header("Location", provider.authorize(params))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if provider.switches.token_endpoint == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if provider.switches.token_endpoint == "503":
                    self._json(503, {"error": "temporarily_unavailable"})
                    return
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                status, body = provider.token(form, self.headers.get("Authorization"))
                self._json(status, body)

        return Handler
