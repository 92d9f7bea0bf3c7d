"""The authlib client flow against a real provider on 127.0.0.1, up to the verified identity.

Each test runs the provider of :mod:`tests.support.oauth_provider` and walks the redirect
the way a browser would: the authorization URL is fetched over HTTP, the provider redirects
to our callback address, and its query goes to :meth:`OAuthClients.finish` with the flow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from dailypapers.accounts.oauth_flow import OAuthClients, OAuthFailure, VerifiedIdentity
from dailypapers.settings import Settings
from tests.support.oauth_provider import CLIENT_ID, CLIENT_SECRET, OAuthProvider
from tests.support.server import free_port

CALLBACK = "http://127.0.0.1:9/auth/{provider}/callback"


def provider_settings(url: str, **changes: str) -> Settings:
    """Both providers pointed at the test provider at ``url``."""
    values = {
        "github_client_id": CLIENT_ID,
        "github_client_secret": CLIENT_SECRET,
        "github_authorize_url": f"{url}/login/oauth/authorize",
        "github_token_url": f"{url}/login/oauth/access_token",
        "github_api_url": f"{url}/",
        "orcid_client_id": CLIENT_ID,
        "orcid_client_secret": CLIENT_SECRET,
        "orcid_metadata_url": f"{url}/.well-known/openid-configuration",
    }
    return Settings(**(values | changes))  # type: ignore[arg-type]


@pytest.fixture
def provider() -> Iterator[OAuthProvider]:
    with OAuthProvider() as running:
        yield running


def authorize(url: str) -> dict[str, str]:
    """Follow the authorization URL to the provider; the query it sends back to us."""
    answer = httpx.get(url, follow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(CALLBACK.split("{")[0])
    return dict(parse_qsl(urlsplit(location).query))


def log_in(
    clients: OAuthClients, provider: str, *, tamper: dict[str, str] | None = None
) -> VerifiedIdentity:
    async def run() -> VerifiedIdentity:
        url, flow = await clients.begin(provider, CALLBACK.format(provider=provider), "login")
        query = authorize(url) | (tamper or {})
        identity, _ = await clients.finish(provider, query, flow)
        return identity

    return asyncio.run(run())


def test_github_gives_the_numeric_id_and_the_verified_primary_email(
    provider: OAuthProvider,
) -> None:
    provider.user.emails.insert(0, {"email": "old@example.org", "primary": False, "verified": True})
    identity = log_in(OAuthClients(provider_settings(provider.url)), "github")
    assert identity == VerifiedIdentity(
        provider="github",
        subject="1001",
        email="octo@example.org",
        email_verified=True,
        login="octo-cat",
        name="Octo Cat",
    )


def test_an_unverified_github_email_is_not_taken(provider: OAuthProvider) -> None:
    provider.user.emails = [{"email": "octo@example.org", "primary": True, "verified": False}]
    identity = log_in(OAuthClients(provider_settings(provider.url)), "github")
    assert (identity.email, identity.email_verified) == (None, False)


def test_orcid_identity_comes_from_a_checked_id_token(provider: OAuthProvider) -> None:
    provider.user.subject = "0000-0002-1825-0097"
    provider.user.name = "Josiah Carberry"
    identity = log_in(OAuthClients(provider_settings(provider.url)), "orcid")
    assert (identity.provider, identity.subject, identity.name) == (
        "orcid",
        "0000-0002-1825-0097",
        "Josiah Carberry",
    )
    assert (identity.email, identity.email_verified) == ("octo@example.org", True)


@pytest.mark.parametrize("provider_name", ["github", "orcid"])
def test_a_state_that_does_not_match_is_refused(
    provider: OAuthProvider, provider_name: str
) -> None:
    clients = OAuthClients(provider_settings(provider.url))
    with pytest.raises(OAuthFailure, match="state mismatch") as failure:
        log_in(clients, provider_name, tamper={"state": "forged"})
    assert failure.value.status == 400
    assert provider.token_requests == 0  # refused before the code is spent


def test_a_flow_cookie_that_is_missing_forged_or_of_another_provider_is_refused(
    provider: OAuthProvider,
) -> None:
    clients = OAuthClients(provider_settings(provider.url))

    async def run(cookie: str) -> None:
        url, flow = await clients.begin("github", CALLBACK.format(provider="github"), "login")
        _, orcid_flow = await clients.begin("orcid", CALLBACK.format(provider="orcid"), "login")
        query = authorize(url)
        chosen = {"missing": "", "forged": flow[:-4] + "AAAA", "orcid": orcid_flow}[cookie]
        await clients.finish("github", query, chosen)

    for cookie in ("missing", "forged", "orcid"):
        with pytest.raises(OAuthFailure) as failure:
            asyncio.run(run(cookie))
        assert failure.value.status == 400
    assert provider.token_requests == 0


def test_denied_consent_is_a_403_that_changes_nothing(provider: OAuthProvider) -> None:
    provider.misbehave.deny_consent = True
    with pytest.raises(OAuthFailure, match="you declined") as failure:
        log_in(OAuthClients(provider_settings(provider.url)), "github")
    assert failure.value.status == 403


def test_a_failing_token_endpoint_is_a_clear_400(provider: OAuthProvider) -> None:
    provider.misbehave.token_error = True
    with pytest.raises(OAuthFailure, match="did not accept the log-in code") as failure:
        log_in(OAuthClients(provider_settings(provider.url)), "github")
    assert failure.value.status == 400


def test_an_unreachable_token_endpoint_is_a_clear_400(provider: OAuthProvider) -> None:
    closed = f"http://127.0.0.1:{free_port()}/login/oauth/access_token"
    clients = OAuthClients(provider_settings(provider.url, github_token_url=closed))
    with pytest.raises(OAuthFailure, match="could not be reached") as failure:
        log_in(clients, "github")
    assert failure.value.status == 400


def test_an_unreachable_orcid_is_a_clear_400_before_any_redirect() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    clients = OAuthClients(provider_settings(closed))
    with pytest.raises(OAuthFailure, match="ORCID could not be reached"):
        asyncio.run(clients.begin("orcid", CALLBACK.format(provider="orcid"), "login"))


def test_an_id_token_with_another_nonce_is_refused(provider: OAuthProvider) -> None:
    provider.misbehave.wrong_nonce = True
    with pytest.raises(OAuthFailure, match="did not pass our checks.*nonce"):
        log_in(OAuthClients(provider_settings(provider.url)), "orcid")


def test_an_id_token_signed_with_a_key_not_in_the_jwks_is_refused(
    provider: OAuthProvider,
) -> None:
    provider.misbehave.foreign_signature = True
    with pytest.raises(OAuthFailure, match="did not pass our checks"):
        log_in(OAuthClients(provider_settings(provider.url)), "orcid")


def test_a_code_cannot_be_used_twice(provider: OAuthProvider) -> None:
    clients = OAuthClients(provider_settings(provider.url))

    async def run() -> None:
        url, flow = await clients.begin("github", CALLBACK.format(provider="github"), "login")
        query = authorize(url)
        await clients.finish("github", query, flow)
        await clients.finish("github", query, flow)

    with pytest.raises(OAuthFailure, match="did not accept the log-in code"):
        asyncio.run(run())


def test_providers_without_both_client_id_and_secret_are_not_offered() -> None:
    clients = OAuthClients(Settings(github_client_id="only-an-id"))
    assert clients.enabled == ()
    with pytest.raises(OAuthFailure) as failure:
        asyncio.run(clients.begin("github", CALLBACK.format(provider="github"), "login"))
    assert failure.value.status == 404
