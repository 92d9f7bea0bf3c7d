"""Log in with GitHub and ORCID through the site, against a real provider on 127.0.0.1.

The site's app runs in a TestClient; the provider is real (:mod:`tests.support.oauth_provider`)
and every hop between them is real HTTP: the site's redirect is fetched from the provider,
whose redirect back is fetched from the site, as a browser would.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient

from dailypapers.accounts import oauth
from dailypapers.accounts import service as accounts
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from dailypapers.web.auth import SESSION_COOKIE
from tests.support.accounts import csrf_of, make_user, sign_in
from tests.support.oauth_provider import OAuthProvider, provider_env


@pytest.fixture
def provider() -> Iterator[OAuthProvider]:
    with OAuthProvider() as running:
        yield running


@pytest.fixture
def site(
    provider: OAuthProvider, filled: Store, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    for name, value in provider_env(provider.url).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with TestClient(create_app(filled, get_settings())) as client:
        yield client


def round_trip(site: TestClient, first: httpx2.Response) -> httpx2.Response:
    """From the site's redirect to the provider, through the provider, back to the site."""
    assert first.status_code in (302, 303), first.text
    at_provider = httpx2.get(first.headers["location"], follow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["location"])
    return site.get(f"{back.path}?{back.query}", follow_redirects=False)


def log_in(site: TestClient, provider: str = "github") -> httpx2.Response:
    return round_trip(site, site.get(f"/auth/{provider}/login", follow_redirects=False))


def test_the_log_in_page_offers_the_enabled_providers(site: TestClient) -> None:
    page = site.get("/login").text
    assert 'href="/auth/github/login"' in page and 'href="/auth/orcid/login"' in page


def test_an_unknown_identity_makes_a_confirmed_account_and_then_logs_it_in(
    site: TestClient, filled: Store
) -> None:
    answer = log_in(site)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    user = accounts.find_user(filled, "octo-cat")
    assert user is not None and user.confirmed and user.email == "octo@example.org"
    assert user.password_hash is None
    first_session = site.cookies.get(SESSION_COOKIE)
    assert first_session and 'href="/users/octo-cat"' in site.get("/about").text
    site.cookies.clear()
    again = log_in(site)  # the linked identity logs the same account in
    assert again.status_code == 303
    assert [u.username for u in accounts.list_users(filled)].count("octo-cat") == 1
    assert site.cookies.get(SESSION_COOKIE) not in (None, first_session)


def test_a_taken_user_name_is_made_unique_and_an_unverified_email_is_not_kept(
    site: TestClient, filled: Store, provider: OAuthProvider
) -> None:
    make_user(filled, "octo-cat", email="someone@example.org")
    provider.user.emails = [{"email": "octo@example.org", "primary": True, "verified": False}]
    assert log_in(site).status_code == 303
    user = accounts.find_user(filled, "octo-cat-2")
    assert user is not None and user.email is None and not user.confirmed


def test_a_matching_email_never_links_an_existing_account(site: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada", email="octo@example.org")
    answer = log_in(site)
    assert answer.status_code == 409
    assert "an account with this email exists" in answer.text.lower()
    assert oauth.identities_of(filled, ada.id) == []
    assert site.cookies.get(SESSION_COOKIE) is None


def test_a_signed_in_user_links_from_settings_then_logs_in_with_it(
    site: TestClient, filled: Store, provider: OAuthProvider
) -> None:
    ada = make_user(filled, "ada", email="octo@example.org")
    sign_in(site, filled, ada)
    assert "Link GitHub" in site.get("/settings").text
    start = site.post(
        "/auth/github/link", data={"csrf_token": csrf_of(site)}, follow_redirects=False
    )
    answer = round_trip(site, start)
    assert answer.status_code == 303 and answer.headers["location"] == "/settings?done=linked"
    assert [i.provider for i in oauth.identities_of(filled, ada.id)] == ["github"]
    assert "Unlink GitHub" in site.get("/settings").text
    site.cookies.clear()
    assert log_in(site).status_code == 303
    assert 'href="/users/ada"' in site.get("/about").text


def test_linking_needs_the_csrf_token(site: TestClient, filled: Store) -> None:
    sign_in(site, filled, make_user(filled, "ada"))
    assert site.post("/auth/github/link", follow_redirects=False).status_code == 403


def test_the_only_way_to_log_in_cannot_be_unlinked(site: TestClient, filled: Store) -> None:
    assert log_in(site).status_code == 303
    octo = accounts.find_user(filled, "octo-cat")
    assert octo is not None
    refused = site.post("/settings/identities/github/unlink", data={"csrf_token": csrf_of(site)})
    assert refused.status_code == 409 and "only way to log in" in refused.text
    assert len(oauth.identities_of(filled, octo.id)) == 1


def test_an_account_with_a_password_may_unlink(site: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada")
    sign_in(site, filled, ada)
    start = site.post(
        "/auth/orcid/link", data={"csrf_token": csrf_of(site)}, follow_redirects=False
    )
    assert round_trip(site, start).status_code == 303
    answer = site.post(
        "/settings/identities/orcid/unlink",
        data={"csrf_token": csrf_of(site)},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and oauth.identities_of(filled, ada.id) == []


def test_orcid_log_in_makes_an_account_from_the_name(
    site: TestClient, filled: Store, provider: OAuthProvider
) -> None:
    provider.user.subject, provider.user.name = "0000-0002-1825-0097", "Josiah Carberry"
    assert log_in(site, "orcid").status_code == 303
    assert accounts.find_user(filled, "Josiah-Carberry") is not None


@pytest.mark.parametrize(
    ("misbehaviour", "status", "says"),
    [
        ("deny_consent", 403, "you declined"),
        ("token_error", 400, "did not accept the log-in code"),
    ],
)
def test_provider_errors_are_clear_4xx_pages(
    site: TestClient, provider: OAuthProvider, misbehaviour: str, status: int, says: str
) -> None:
    setattr(provider.misbehave, misbehaviour, True)
    answer = log_in(site)
    assert answer.status_code == status and says in answer.text
    assert "text/html" in answer.headers["content-type"]


@pytest.mark.parametrize("misbehaviour", ["wrong_nonce", "foreign_signature"])
def test_bad_id_tokens_are_refused(
    site: TestClient, filled: Store, provider: OAuthProvider, misbehaviour: str
) -> None:
    setattr(provider.misbehave, misbehaviour, True)
    answer = log_in(site, "orcid")
    assert answer.status_code == 400 and "did not pass our checks" in answer.text
    assert accounts.list_users(filled) == []


def test_a_forged_state_is_refused(site: TestClient, filled: Store) -> None:
    start = site.get("/auth/github/login", follow_redirects=False)
    at_provider = httpx2.get(start.headers["location"], follow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["location"])
    forged = back.query.replace("state=", "state=x")
    answer = site.get(f"{back.path}?{forged}", follow_redirects=False)
    assert answer.status_code == 400 and "state mismatch" in answer.text
    assert accounts.list_users(filled) == []


def test_starts_and_callbacks_are_rate_limited_per_ip(
    provider: OAuthProvider, filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in provider_env(provider.url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAILYPAPERS_LIMIT_OAUTH", "ip:3/10m")
    get_settings.cache_clear()
    with TestClient(create_app(filled, get_settings())) as site:
        assert log_in(site).status_code == 303  # a start and a callback: two steps
        first = site.get("/auth/orcid/login", follow_redirects=False)  # the third
        assert first.status_code == 302
        for path in ("/auth/github/login", "/auth/orcid/callback?code=x&state=y"):
            refused = site.get(path, follow_redirects=False)
            assert refused.status_code == 429, path
            assert int(refused.headers["retry-after"]) > 0
            assert "Too many GitHub or ORCID log-in attempts" in refused.text
        assert provider.url not in site.get("/auth/github/login").text  # never sent on
