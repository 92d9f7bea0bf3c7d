"""Log-in with GitHub (OAuth 2) and ORCID (OpenID Connect), up to a verified identity.

Built on authlib's Starlette client apps, used without a session: :meth:`OAuthClients.begin`
makes the provider's authorization URL with a fresh ``state``, a PKCE verifier (S256) and,
for ORCID, a ``nonce``, and returns them signed (itsdangerous, :data:`FLOW_MAX_AGE` seconds)
for the web layer to keep in a short-lived cookie. :meth:`OAuthClients.finish` takes the
callback's query and that cookie, checks the state, exchanges the code (with the verifier),
checks ORCID's ID token (signature against the provider's JWKS, issuer, audience, expiry,
nonce) and reads who the person is. Every way this can fail, from a denied consent to an
unreachable provider, is one :class:`OAuthFailure` with a message for the page.

A provider is enabled when both its client id and secret are set; its endpoints are settings
(defaults: github.com's and orcid.org's own), so tests point them at a provider on 127.0.0.1.
What happens with the identity (log in, link, new account) is :mod:`dailypapers.accounts.oauth`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc.errors import JoseError

from dailypapers.settings import Settings

PROVIDERS = ("github", "orcid")
PROVIDER_NAMES = {"github": "GitHub", "orcid": "ORCID"}
FLOW_MAX_AGE = 600  # seconds from the redirect to the provider until the callback
Intent = Literal["login", "link"]


class OAuthFailure(Exception):
    """A log-in with a provider that cannot go on; ``message`` is shown to the person."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the provider says the person is; ``email`` is set only when the provider has one."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    login: str | None
    name: str | None


@dataclass(frozen=True)
class Flow:
    """What one log-in attempt must remember between the redirect and the callback."""

    provider: str
    state: str
    nonce: str | None
    code_verifier: str
    redirect_uri: str
    intent: str
    user_id: int | None  # who started a "link" flow; the callback checks it is still them


class OAuthClients:
    """The enabled providers' authlib clients, and the signer of flow cookies."""

    def __init__(self, settings: Settings) -> None:
        self._signer = URLSafeTimedSerializer(settings.secret_key, salt="dailypapers.oauth-flow")
        self._timeout = min(settings.http_timeout, 15.0)
        self._apps: dict[str, StarletteOAuth2App] = {}
        registry = OAuth()
        if settings.github_client_id and settings.github_client_secret:
            self._apps["github"] = registry.register(
                "github",
                client_id=settings.github_client_id,
                client_secret=settings.github_client_secret,
                authorize_url=settings.github_authorize_url,
                access_token_url=settings.github_token_url,
                api_base_url=settings.github_api_url,
                client_kwargs=self._client_kwargs("read:user user:email"),
            )
        if settings.orcid_client_id and settings.orcid_client_secret:
            self._apps["orcid"] = registry.register(
                "orcid",
                client_id=settings.orcid_client_id,
                client_secret=settings.orcid_client_secret,
                server_metadata_url=settings.orcid_metadata_url,
                client_kwargs=self._client_kwargs("openid"),
            )

    def _client_kwargs(self, scope: str) -> dict[str, Any]:
        return {"scope": scope, "code_challenge_method": "S256", "timeout": self._timeout}

    @property
    def enabled(self) -> tuple[str, ...]:
        """The providers a person may log in with, in a fixed order."""
        return tuple(name for name in PROVIDERS if name in self._apps)

    def _app(self, provider: str) -> StarletteOAuth2App:
        app = self._apps.get(provider)
        if app is None:
            raise OAuthFailure(f"Log-in with {provider!r} is not available on this site.", 404)
        return app

    async def begin(
        self, provider: str, redirect_uri: str, intent: Intent, user_id: int | None = None
    ) -> tuple[str, str]:
        """The provider's authorization URL, and the signed flow to keep in a cookie."""
        app = self._app(provider)
        try:
            started = await app.create_authorization_url(redirect_uri)
        except (AuthlibBaseError, httpx2.HTTPError, ValueError, RuntimeError) as error:
            raise _unreachable(provider) from error
        flow = Flow(
            provider=provider,
            state=started["state"],
            nonce=started.get("nonce"),
            code_verifier=started["code_verifier"],
            redirect_uri=redirect_uri,
            intent=intent,
            user_id=user_id,
        )
        return started["url"], self._signer.dumps(asdict(flow))

    def read_flow(self, provider: str, signed: str | None, state: str | None) -> Flow:
        """The flow of this callback, refused unless signed by us, recent and of this state."""
        if not signed:
            raise OAuthFailure(
                "This log-in did not start here or its cookie was lost; please start again."
            )
        try:
            flow = Flow(**self._signer.loads(signed, max_age=FLOW_MAX_AGE))
        except (BadSignature, TypeError):
            raise OAuthFailure("This log-in has expired; please start again.") from None
        if flow.provider != provider or not state or not hmac.compare_digest(flow.state, state):
            raise OAuthFailure(
                "The answer from the provider does not match the log-in started here "
                "(state mismatch); nothing was changed. Please start again."
            )
        return flow

    async def finish(
        self, provider: str, query: Mapping[str, str], signed_flow: str | None
    ) -> tuple[VerifiedIdentity, Flow]:
        """Check the callback and return the verified identity, or raise :class:`OAuthFailure`."""
        app = self._app(provider)
        label = PROVIDER_NAMES[provider]
        if query.get("error"):
            denied = query["error"] == "access_denied"
            raise OAuthFailure(
                f"{label} did not let you in: you declined, so nothing was changed."
                if denied
                else f"{label} refused the log-in ({query['error'][:80]}).",
                403 if denied else 400,
            )
        flow = self.read_flow(provider, signed_flow, query.get("state"))
        if not query.get("code"):
            raise OAuthFailure(f"{label} sent no authorization code; please start again.")
        token = await self._exchange(app, label, flow, query["code"])
        if provider == "github":
            return await _github_identity(app, token), flow
        return await _orcid_identity(app, token, flow), flow

    async def _exchange(
        self, app: StarletteOAuth2App, label: str, flow: Flow, code: str
    ) -> dict[str, Any]:
        try:
            token: dict[str, Any] = await app.fetch_access_token(
                redirect_uri=flow.redirect_uri, code=code, code_verifier=flow.code_verifier
            )
        except httpx2.TransportError as error:
            raise _unreachable(label) from error
        except (AuthlibBaseError, httpx2.HTTPError, ValueError, KeyError) as error:
            raise OAuthFailure(
                f"{label} did not accept the log-in code ({_describe(error)}); please start again."
            ) from error
        if not token.get("access_token"):
            raise OAuthFailure(f"{label} answered without an access token; please start again.")
        return token


async def _github_identity(app: StarletteOAuth2App, token: dict[str, Any]) -> VerifiedIdentity:
    """GitHub's user and its primary email, confirmed only when GitHub has verified it."""
    user = await _get_json(app, "user", token, "GitHub")
    emails = await _get_json(app, "user/emails", token, "GitHub")
    if not isinstance(user, dict) or user.get("id") is None or not isinstance(emails, list):
        raise OAuthFailure("GitHub answered with an unexpected user record; please try again.")
    primary = next(
        (entry for entry in emails if isinstance(entry, dict) and entry.get("primary")), None
    )
    verified = bool(primary and primary.get("verified") is True and primary.get("email"))
    return VerifiedIdentity(
        provider="github",
        subject=str(user["id"]),  # the number: a login name can be renamed and reused
        email=str(primary["email"]) if primary and verified else None,
        email_verified=verified,
        login=_text(user.get("login")),
        name=_text(user.get("name")),
    )


async def _orcid_identity(
    app: StarletteOAuth2App, token: dict[str, Any], flow: Flow
) -> VerifiedIdentity:
    """The ORCID iD from the checked ID token; name and email from userinfo when given."""
    if "id_token" not in token:
        raise OAuthFailure("ORCID answered without an ID token; please start again.")
    try:
        claims = await app.parse_id_token(token, nonce=flow.nonce)
    except httpx2.TransportError as error:
        raise _unreachable("ORCID") from error
    except (JoseError, AuthlibBaseError, httpx2.HTTPError, ValueError, KeyError) as error:
        raise OAuthFailure(
            f"ORCID's ID token did not pass our checks ({_describe(error)}); nothing was changed."
        ) from error
    subject = str(claims["sub"])
    info = await _get_json(app, _userinfo_url(app), token, "ORCID")
    if not isinstance(info, dict) or str(info.get("sub")) != subject:
        raise OAuthFailure("ORCID's user information is not about the signed-in person.")
    verified = info.get("email_verified") is True and bool(info.get("email"))
    name = _text(info.get("name")) or _text(claims.get("name")) or _joined_name(info)
    return VerifiedIdentity(
        provider="orcid",
        subject=subject,
        email=str(info["email"]) if verified else None,
        email_verified=verified,
        login=None,
        name=name,
    )


def _userinfo_url(app: StarletteOAuth2App) -> str:
    url = app.server_metadata.get("userinfo_endpoint")
    if not url:
        raise OAuthFailure("ORCID's configuration names no userinfo endpoint.")
    return str(url)


async def _get_json(app: StarletteOAuth2App, url: str, token: dict[str, Any], label: str) -> Any:
    try:
        response = await app.get(url, token=token)
        response.raise_for_status()
        return response.json()
    except httpx2.TransportError as error:
        raise _unreachable(label) from error
    except (AuthlibBaseError, httpx2.HTTPError, ValueError) as error:
        raise OAuthFailure(
            f"{label} did not tell us who you are ({_describe(error)}); please try again."
        ) from error


def _unreachable(label: str) -> OAuthFailure:
    label = PROVIDER_NAMES.get(label, label)
    return OAuthFailure(f"{label} could not be reached; please try again in a moment.")


def _describe(error: Exception) -> str:
    text = getattr(error, "description", None) or getattr(error, "error", None) or str(error)
    return str(text)[:120] or type(error).__name__


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _joined_name(info: Mapping[str, Any]) -> str | None:
    parts = [_text(info.get("given_name")), _text(info.get("family_name"))]
    return " ".join(part for part in parts if part) or None
