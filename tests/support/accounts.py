"""Signed-in users for tests: make a user, sign a test client in, make an API token.

>>> user = make_user(store, "ada", role="moderator")          # confirmed, password PASSWORD
>>> sign_in(client, store, user)                               # client now has the cookie
>>> client.post("/logout", data={"csrf_token": csrf_of(client)})
>>> token = api_token(store, user, scope="write")              # for Authorization: Bearer
>>> client.get("/api/...", headers=bearer(token))

Everything goes through :mod:`dailypapers.accounts.service`, as the site does.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from dailypapers.accounts import User
from dailypapers.accounts.service import create_token, create_user, start_session
from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store
from dailypapers.web.auth import SESSION_COOKIE

PASSWORD = "correct horse battery staple"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(
    store: Store,
    username: str = "ada",
    *,
    email: str | None = None,
    role: str = "user",
    password: str | None = PASSWORD,
    confirmed: bool = True,
    fullname: str | None = None,
    settings: Settings | None = None,
) -> User:
    """A stored user (email ``USERNAME@example.org`` unless given)."""
    return create_user(
        store,
        settings or get_settings(),
        username,
        email or f"{username}@example.org",
        password=password,
        role=role,
        confirmed=confirmed,
        fullname=fullname,
    )


def sign_in(client: TestClient, store: Store, user: User, settings: Settings | None = None) -> str:
    """Start a session for ``user`` and give ``client`` its cookie; the session token."""
    token = start_session(store, settings or get_settings(), user, user_agent="tests")
    client.cookies.set(SESSION_COOKIE, token, domain=cookie_domain(client))
    return token


def cookie_domain(client: TestClient) -> str:
    """The domain the client's cookie jar files the server's cookies under (a host name
    without a dot gets ``.local``, as browsers and httpx do)."""
    host = client.base_url.host
    return host if "." in host else f"{host}.local"


def api_token(store: Store, user: User, scope: str = "read") -> str:
    token, _ = create_token(store, user, "tests", scope)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_of(client: TestClient, path: str = "/settings") -> str:
    """The CSRF token of ``client``'s browser, read from a form of the page at ``path``."""
    page = client.get(path)
    found = _CSRF_RE.search(page.text)
    assert found, f"no CSRF field on {path} ({page.status_code})"
    return found.group(1)
