"""A small real OAuth 2 / OpenID Connect provider on 127.0.0.1, for the log-in tests.

It speaks both shapes the site uses: GitHub's (``/login/oauth/authorize``,
``/login/oauth/access_token``, ``/user``, ``/user/emails``) and OpenID Connect's as ORCID
serves it (``/.well-known/openid-configuration``, ``/oauth/authorize``, ``/oauth/token``,
``/oauth/userinfo``, ``/oauth/jwks``, ID tokens signed RS256 with joserfc, the JOSE library
authlib itself now uses). It checks what a real provider checks: the client id and secret,
the redirect URI, a single-use code, and the PKCE verifier against its S256 challenge.

Consent is automatic for :attr:`OAuthProvider.user`, the person "signed in at the provider";
the switches on :class:`Misbehaviour` make it deny consent, fail at the token endpoint, put a
wrong nonce in the ID token or sign it with a key the JWKS does not hold. Run it with
``with OAuthProvider() as provider:`` (uvicorn in a thread, :class:`LiveServer`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.support.browser import LiveServer

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
KEY_ID = "provider-key-1"


@dataclass
class ProviderUser:
    """A person with an account at the provider."""

    subject: str
    login: str
    name: str | None = None
    # GitHub's /user/emails shape: {"email", "primary", "verified", "visibility"}.
    emails: list[dict[str, Any]] = field(default_factory=list)

    def primary_email(self) -> dict[str, Any] | None:
        return next((entry for entry in self.emails if entry.get("primary")), None)


@dataclass
class Misbehaviour:
    """What the provider gets wrong on purpose, to test the site's checks."""

    deny_consent: bool = False
    token_error: bool = False
    wrong_nonce: bool = False
    foreign_signature: bool = False


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    nonce: str | None
    scope: str
    user: ProviderUser


class OAuthProvider:
    """The provider app, served on a free port of 127.0.0.1 inside ``with``."""

    def __init__(self) -> None:
        self.user = ProviderUser(
            subject="1001",
            login="octo-cat",
            name="Octo Cat",
            emails=[{"email": "octo@example.org", "primary": True, "verified": True}],
        )
        self.misbehave = Misbehaviour()
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        # Same key id, different key: what a forged token would be signed with.
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        self.url = ""
        self.token_requests = 0
        self._grants: dict[str, _Grant] = {}
        self._tokens: dict[str, ProviderUser] = {}
        self._server: LiveServer | None = None
        self.app = self._build_app()

    def __enter__(self) -> OAuthProvider:
        self._server = LiveServer(self.app)
        self._server.__enter__()
        self.url = self._server.url
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.__exit__(exc_type, exc, traceback)

    # --- the endpoints -------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        app.add_api_route("/login/oauth/authorize", self._authorize, methods=["GET"])
        app.add_api_route("/oauth/authorize", self._authorize, methods=["GET"])
        app.add_api_route("/login/oauth/access_token", self._token, methods=["POST"])
        app.add_api_route("/oauth/token", self._token, methods=["POST"])
        app.add_api_route("/user", self._github_user, methods=["GET"])
        app.add_api_route("/user/emails", self._github_emails, methods=["GET"])
        app.add_api_route("/oauth/userinfo", self._userinfo, methods=["GET"])
        app.add_api_route("/oauth/jwks", self._jwks, methods=["GET"])
        app.add_api_route("/.well-known/openid-configuration", self._discovery, methods=["GET"])
        return app

    async def _authorize(self, request: Request) -> Response:
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not redirect_uri:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        back: dict[str, str] = {"state": query.get("state", "")}
        if self.misbehave.deny_consent:
            back |= {"error": "access_denied", "error_description": "The user said no."}
        else:
            code = secrets.token_urlsafe(16)
            self._grants[code] = _Grant(
                client_id=CLIENT_ID,
                redirect_uri=redirect_uri,
                code_challenge=query.get("code_challenge"),
                nonce=query.get("nonce"),
                scope=query.get("scope", ""),
                user=self.user,
            )
            back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = await request.form()
        values = {key: str(value) for key, value in form.items()}
        if self.misbehave.token_error:
            return JSONResponse({"error": "server_error"}, status_code=500)
        if not self._client_authenticated(request, values):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self._grants.pop(values.get("code", ""), None)  # a code is single-use
        if grant is None or grant.redirect_uri != values.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if grant.code_challenge != _s256(values.get("code_verifier", "")):
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        access_token = secrets.token_urlsafe(24)
        self._tokens[access_token] = grant.user
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "bearer",
            "scope": grant.scope,
        }
        if "openid" in grant.scope.split():
            body["id_token"] = self._id_token(grant)
            body["expires_in"] = 3600
        return JSONResponse(body)

    def _client_authenticated(self, request: Request, values: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            decoded = base64.b64decode(header[6:]).decode()
            return decoded == f"{CLIENT_ID}:{CLIENT_SECRET}"
        return (values.get("client_id"), values.get("client_secret")) == (
            CLIENT_ID,
            CLIENT_SECRET,
        )

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": grant.user.subject,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 600,
            "auth_time": now,
            "nonce": "not-the-nonce-you-sent" if self.misbehave.wrong_nonce else grant.nonce,
            "name": grant.user.name,
        }
        key = self.foreign_key if self.misbehave.foreign_signature else self.key
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)

    def _bearer_user(self, request: Request) -> ProviderUser | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        return self._tokens.get(header[7:])

    async def _github_user(self, request: Request) -> Response:
        user = self._bearer_user(request)
        if user is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        primary = user.primary_email()
        return JSONResponse(
            {
                "id": int(user.subject),
                "login": user.login,
                "name": user.name,
                "email": primary["email"] if primary else None,
            }
        )

    async def _github_emails(self, request: Request) -> Response:
        user = self._bearer_user(request)
        if user is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse(user.emails)

    async def _userinfo(self, request: Request) -> Response:
        user = self._bearer_user(request)
        if user is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        info: dict[str, Any] = {"sub": user.subject, "name": user.name}
        primary = user.primary_email()
        if primary:
            info |= {"email": primary["email"], "email_verified": primary["verified"]}
        return JSONResponse(info)

    async def _jwks(self) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def _discovery(self) -> Response:
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/oauth/authorize",
                "token_endpoint": f"{self.url}/oauth/token",
                "userinfo_endpoint": f"{self.url}/oauth/userinfo",
                "jwks_uri": f"{self.url}/oauth/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
            }
        )


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def provider_env(url: str) -> dict[str, str]:
    """The DAILYPAPERS_* settings that point both GitHub and ORCID at the provider at ``url``."""
    return {
        "DAILYPAPERS_GITHUB_CLIENT_ID": CLIENT_ID,
        "DAILYPAPERS_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
        "DAILYPAPERS_GITHUB_AUTHORIZE_URL": f"{url}/login/oauth/authorize",
        "DAILYPAPERS_GITHUB_TOKEN_URL": f"{url}/login/oauth/access_token",
        "DAILYPAPERS_GITHUB_API_URL": f"{url}/",
        "DAILYPAPERS_ORCID_CLIENT_ID": CLIENT_ID,
        "DAILYPAPERS_ORCID_CLIENT_SECRET": CLIENT_SECRET,
        "DAILYPAPERS_ORCID_METADATA_URL": f"{url}/.well-known/openid-configuration",
    }
