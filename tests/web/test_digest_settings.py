"""A signed-in member manages the digest subscription of their account's confirmed address
from the settings page: subscribe (confirmed at once: the account's address is confirmed),
change frequency and categories, unsubscribe; every POST needs the session's CSRF token, an
unconfirmed account address gets nothing, and bad choices are a 422 with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dailypapers.digest import subscriptions as subs
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from tests.support.accounts import api_token, bearer, csrf_of, make_user, sign_in


@pytest.fixture
def app_client(filled: Store) -> Iterator[TestClient]:
    with TestClient(create_app(filled, get_settings())) as test_client:
        yield test_client


def _section(page: str) -> str:
    start = page.index('id="digest-head"')
    return page[start : page.index("</section>", start)]


def test_subscribe_change_and_unsubscribe_from_settings(
    filled: Store, app_client: TestClient
) -> None:
    user = make_user(filled, "ada")
    sign_in(app_client, filled, user)
    assert "ada@example.org gets no digest" in _section(app_client.get("/settings").text)
    category = get_settings().categories[0]
    token = csrf_of(app_client)

    saved = app_client.post(
        "/settings/digest",
        data={"csrf_token": token, "frequency": "weekly", "category": [category]},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"].startswith("/settings?digest=")
    found = subs.of_address(filled, "ada@example.org")
    assert found is not None and found.status == "confirmed"
    assert (found.frequency, found.categories) == ("weekly", (category,))
    section = _section(app_client.get(saved.headers["location"]).text)
    assert "Your digest subscription is saved" in section
    assert f"gets the weekly digest of {category}" in section
    assert 'value="weekly" checked' in section and f'value="{category}" checked' in section

    app_client.post("/settings/digest", data={"csrf_token": token, "frequency": "daily"})
    changed = subs.of_address(filled, "ADA@example.org")
    assert changed is not None and (changed.frequency, changed.categories) == ("daily", ())
    assert changed.id == found.id and changed.confirmed_at == found.confirmed_at

    gone = app_client.post("/settings/digest/unsubscribe", data={"csrf_token": token})
    assert gone.status_code == 200 and "You are unsubscribed from the digest" in gone.text
    assert subs.of_address(filled, "ada@example.org") is None


def test_a_pending_or_bounced_subscription_is_confirmed_by_saving(
    filled: Store, app_client: TestClient
) -> None:
    settings = get_settings()
    made = subs.subscribe(filled, settings, "bob@example.org", "daily")
    assert made is not None and made[0].status == "pending"
    user = make_user(filled, "bob")
    sign_in(app_client, filled, user)
    assert "gets no digest" in _section(app_client.get("/settings").text)
    app_client.post("/settings/digest", data={"csrf_token": csrf_of(app_client)})
    found = subs.of_address(filled, "bob@example.org")
    assert found is not None and found.status == "confirmed" and found.id == made[0].id


def test_the_posts_need_the_csrf_token_or_a_write_token(
    filled: Store, app_client: TestClient
) -> None:
    user = make_user(filled, "cy")
    sign_in(app_client, filled, user)
    for path in ("/settings/digest", "/settings/digest/unsubscribe"):
        refused = app_client.post(path, data={"frequency": "daily"})
        assert refused.status_code == 403, path
    assert subs.of_address(filled, "cy@example.org") is None
    app_client.cookies.clear()
    read_only = bearer(api_token(filled, user, "read"))
    assert app_client.post("/settings/digest", headers=read_only).status_code == 403
    writer = bearer(api_token(filled, user, "write"))
    answer = app_client.post("/settings/digest", headers=writer, follow_redirects=False)
    assert answer.status_code == 303
    assert subs.of_address(filled, "cy@example.org") is not None


def test_anonymous_visitors_change_nothing(filled: Store, app_client: TestClient) -> None:
    answer = app_client.post("/settings/digest", data={}, follow_redirects=False)
    assert answer.status_code in (303, 401, 403)
    assert subs.all_subscriptions(filled) == []


def test_bad_choices_and_unconfirmed_addresses_are_refused(
    filled: Store, app_client: TestClient
) -> None:
    user = make_user(filled, "dee")
    sign_in(app_client, filled, user)
    token = csrf_of(app_client)
    bad = app_client.post("/settings/digest", data={"csrf_token": token, "frequency": "hourly"})
    assert bad.status_code == 422 and "Choose daily or weekly" in bad.text
    unknown = app_client.post(
        "/settings/digest", data={"csrf_token": token, "category": "astro-ph.XX"}
    )
    assert unknown.status_code == 422 and "Unknown category" in unknown.text
    assert subs.of_address(filled, "dee@example.org") is None

    pending = make_user(filled, "eve", confirmed=False)
    app_client.cookies.clear()
    sign_in(app_client, filled, pending)
    assert "confirm your account's address first" in _section(app_client.get("/settings").text)
    refused = app_client.post("/settings/digest", data={"csrf_token": csrf_of(app_client)})
    assert refused.status_code == 400 and "Confirm your account" in refused.text
    assert subs.of_address(filled, "eve@example.org") is None
