"""Signing in and out of the site: CSRF, session fixation, bearer scopes, no caching of
personal pages, escaping, through the real app and its real store."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from dailypapers.accounts import service as accounts
from dailypapers.store import Store
from dailypapers.web.auth import CSRF_COOKIE, SESSION_COOKIE
from tests.support.accounts import (
    PASSWORD,
    api_token,
    bearer,
    cookie_domain,
    csrf_of,
    make_user,
    sign_in,
)


def _csrf_of_login(client: TestClient) -> str:
    return csrf_of(client, "/login")


def test_log_in_changes_the_session_and_log_out_ends_it(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada")
    planted = accounts.start_session(filled, client.app.state.settings, ada)  # type: ignore[attr-defined]
    # A session id an attacker fixed beforehand.
    client.cookies.set(SESSION_COOKIE, planted, domain=cookie_domain(client))
    accounts.end_session(filled, planted)
    csrf = _csrf_of_login(client)
    answer = client.post(
        "/login",
        data={"login": "ada", "password": PASSWORD, "next": "/about", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/about"
    new = client.cookies.get(SESSION_COOKIE)
    assert new and new != planted
    cookie = next(v for k, v in answer.headers.multi_items() if v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    page = client.get("/about")
    assert 'href="/users/ada"' in page.text and "Log out" in page.text
    assert page.headers["cache-control"] == "private, no-store"
    logout = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert logout.status_code == 303
    assert accounts.resolve_session(filled, new) is None
    assert "Log in" in client.get("/about").text


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(
    client: TestClient, filled: Store
) -> None:
    make_user(filled, "ada")
    csrf = _csrf_of_login(client)
    answers = [
        client.post(
            "/login", data={"login": login, "password": "wrong password", "csrf_token": csrf}
        )
        for login in ("ada", "ada@example.org", "nobody", "nobody@example.org")
    ]
    assert {a.status_code for a in answers} == {401}
    # The same page but for the login typed back into its field (and the form's token).
    bodies = {re.sub(r'value="[^"]*"', "", a.text) for a in answers}
    assert len(bodies) == 1
    messages = {re.search(r'role="alert"[^>]*>([^<]*)<', a.text).group(1) for a in answers}  # type: ignore[union-attr]
    assert messages == {"Wrong user name, email or password."}
    assert SESSION_COOKIE not in client.cookies


def test_a_cross_site_post_without_the_csrf_token_is_refused(
    client: TestClient, filled: Store
) -> None:
    ada = make_user(filled, "ada")
    token = sign_in(client, filled, ada)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    forged = client.post("/logout", data={"csrf_token": "0" * 40}, follow_redirects=False)
    assert forged.status_code == 403
    assert accounts.resolve_session(filled, token) is not None  # still signed in
    # A log-in form posted from elsewhere (login CSRF) is refused too.
    client.cookies.clear()
    refused = client.post("/login", data={"login": "ada", "password": PASSWORD})
    assert refused.status_code == 403 and SESSION_COOKIE not in client.cookies
    made = client.post(
        "/settings/tokens", data={"name": "x", "scope": "write"}, follow_redirects=False
    )
    assert made.status_code in (303, 401, 403)
    assert accounts.list_tokens(filled, ada.id) == []


def test_the_csrf_header_works_for_script_requests(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada")
    sign_in(client, filled, ada)
    csrf = csrf_of(client)
    made = client.post("/settings/tokens", data={"name": "js"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 200 and [t.name for t in accounts.list_tokens(filled, ada.id)] == [
        "js"
    ]


def test_settings_need_a_sign_in_and_show_a_new_token_once(
    client: TestClient, filled: Store
) -> None:
    answer = client.get("/settings?tab=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fsettings%3Ftab%3D1"
    ada = make_user(filled, "ada")
    sign_in(client, filled, ada)
    made = client.post(
        "/settings/tokens", data={"name": "laptop", "scope": "read", "csrf_token": csrf_of(client)}
    )
    token = re.search(r'id="new-token">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    resolved = accounts.resolve_bearer(filled, token)
    assert resolved is not None and resolved.scope == "read"
    assert token not in client.get("/settings").text
    (listed,) = accounts.list_tokens(filled, ada.id)
    revoked = client.post(
        f"/settings/tokens/{listed.id}/revoke",
        data={"csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303 and accounts.resolve_bearer(filled, token) is None


def test_token_scopes_are_enforced(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada")
    read, write = api_token(filled, ada, "read"), api_token(filled, ada, "write")
    fresh = TestClient(client.app)
    refused = fresh.post("/settings/tokens", data={"name": "r"}, headers=bearer(read))
    assert refused.status_code == 403 and "read scope" in refused.text
    unknown = fresh.post("/settings/tokens", data={"name": "r"}, headers=bearer("dp_nothing"))
    assert unknown.status_code == 401
    allowed = fresh.post("/settings/tokens", data={"name": "w"}, headers=bearer(write))
    assert allowed.status_code == 200
    assert allowed.headers["cache-control"] == "private, no-store"
    assert sorted(t.name for t in accounts.list_tokens(filled, ada.id)) == ["tests", "tests", "w"]


def test_personal_pages_are_never_cached_and_anonymous_pages_still_are(
    client: TestClient, filled: Store
) -> None:
    ada = make_user(filled, "ada")
    login_page = client.get("/login")
    assert CSRF_COOKIE in login_page.headers.get("set-cookie", "")
    assert login_page.headers["cache-control"] == "private, no-store"
    other = TestClient(client.app)
    assert other.get("/login").headers["x-cache"] == "miss"  # a cookie-setting page: never kept
    other.get("/about")
    assert other.get("/about").headers["x-cache"] == "hit"
    sign_in(client, filled, ada)
    personal = client.get("/about")  # merged from a shared rendering, sent as private
    assert personal.headers["cache-control"] == "private, no-store"
    assert 'href="/users/ada"' in personal.text
    assert "x-cache" not in client.get("/settings").headers  # personal by nature: never kept
    assert 'href="/users/ada"' not in other.get("/about").text


def test_profiles_escape_what_users_wrote(client: TestClient, filled: Store) -> None:
    make_user(filled, "mallory", fullname='<script>alert("x")</script>')
    page = client.get("/users/MALLORY")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert client.get("/users/nobody").status_code == 404


def test_secure_cookies_on_an_https_site(filled: Store, monkeypatch: object) -> None:
    from dailypapers.settings import get_settings
    from dailypapers.web.app import create_app

    settings = get_settings().model_copy(update={"site_url": "https://papers.example.org"})
    ada = make_user(filled, "ada")
    with TestClient(create_app(filled, settings), base_url="https://papers.example.org") as c:
        csrf = csrf_of(c, "/login")
        answer = c.post(
            "/login",
            data={"login": ada.username, "password": PASSWORD, "csrf_token": csrf},
            follow_redirects=False,
        )
        cookie = next(v for k, v in answer.headers.multi_items() if v.startswith(SESSION_COOKIE))
        assert "Secure" in cookie


def test_whoami_answers_as_hugging_face_and_escapes_nothing_it_should_not(
    client: TestClient, filled: Store
) -> None:
    mallory = make_user(filled, "mallory", fullname="<img src=x onerror=alert(1)>")
    read = api_token(filled, mallory, "read")
    fresh = TestClient(client.app)
    assert fresh.get("/api/whoami-v2").status_code == 401
    assert fresh.get("/api/whoami-v2", headers=bearer("dp_unknown")).status_code == 401
    me = fresh.get("/api/whoami-v2", headers=bearer(read))
    assert me.status_code == 200 and me.headers["cache-control"] == "private, no-store"
    body = me.json()
    assert body["name"] == "mallory" and body["auth"]["accessToken"]["role"] == "read"
    assert body["fullname"] == "<img src=x onerror=alert(1)>"  # JSON data, served as JSON
    assert me.headers["content-type"] == "application/json"
    public = fresh.get("/api/users/MALLORY").json()
    assert public["name"] == "mallory" and "email" not in public
    assert fresh.get("/api/users/nobody").status_code == 404
    page = fresh.get("/users/mallory").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_change_of_role_gives_the_browser_a_new_session_id(
    client: TestClient, filled: Store
) -> None:
    from dailypapers.accounts import flows

    ada = make_user(filled, "ada")
    old = sign_in(client, filled, ada)
    flows.set_role(filled, ada, "moderator")
    answer = client.get("/about")
    cookie = next(v for k, v in answer.headers.multi_items() if v.startswith(SESSION_COOKIE))
    new = client.cookies.get(SESSION_COOKIE, domain=cookie_domain(client))
    assert new and new != old and new in cookie
    assert accounts.resolve_session(filled, old) is None
    resolved = accounts.resolve_session(filled, new)
    assert resolved is not None and resolved.user.role == "moderator"
    assert 'href="/users/ada"' in client.get("/about").text


def test_sign_up_and_reset_are_rate_limited_per_address(client: TestClient, filled: Store) -> None:
    csrf = csrf_of(client, "/password/forgot")
    statuses = [
        client.post(
            "/password/forgot", data={"email": "nobody@example.org", "csrf_token": csrf}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    signups = [
        client.post(
            "/signup",
            data={
                "username": f"u{n}",
                "email": "same@example.org",
                "password": PASSWORD,
                "csrf_token": csrf,
            },
        ).status_code
        for n in range(4)
    ]
    assert signups == [200, 200, 200, 429]
