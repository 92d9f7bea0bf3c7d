"""Alerts on the web: "Save as alert" on the search page (a log-in link for anonymous
visitors, who get no CSRF field), /alerts (list, rename, channel, delete), the private Atom
feed (feedparser reads it without complaint; a new address revokes the old), one-click
unsubscribe, and the JSON API with tokens.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import feedparser
from fastapi.testclient import TestClient

from dailypapers.alerts import service
from dailypapers.alerts.sending import unsubscribe_token
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.batches import utc_now
from dailypapers.store.schema import alerts as alerts_table
from tests.support.accounts import api_token, bearer, csrf_of, make_user, sign_in

SEARCH = "/search?q=speculative+decoding&category=cs.CL&code=true"


def test_anonymous_search_page_offers_a_log_in_link(indexed_client: TestClient) -> None:
    page = indexed_client.get(SEARCH)
    assert page.status_code == 200
    assert "to save this search as an alert" in page.text
    assert "/login?next=/search%3F" in page.text
    assert 'name="csrf_token"' not in page.text and 'action="/alerts"' not in page.text


def _save_from_search(client: TestClient, filled: Store) -> service.Alert:
    page = client.get(SEARCH)
    form = re.search(r'<form method="post" action="/alerts".*?</form>', page.text, re.S)
    assert form is not None, "no save-as-alert form"
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)):
        data.setdefault(name, []).append(unescape(value))
    answer = client.post("/alerts", data=data, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/alerts?done=saved"
    return service.alerts_of(filled, 1)[-1]


def test_a_member_saves_the_search_as_an_alert_and_manages_it(
    indexed_client: TestClient, filled: Store
) -> None:
    ada = make_user(filled, "ada", confirmed=True)
    sign_in(indexed_client, filled, ada)
    alert = _save_from_search(indexed_client, filled)
    assert (alert.query, alert.channel, alert.has_vector) == ("speculative decoding", "email", True)
    assert alert.params == {"category": ["cs.CL"], "code": True, "sort": "relevance"}
    assert alert.search_url() == "/search?q=speculative+decoding&category=cs.CL&code=true"
    listing = indexed_client.get("/alerts")
    assert "speculative decoding" in listing.text and "by email" in listing.text
    token = csrf_of(indexed_client, "/alerts")
    renamed = indexed_client.post(
        f"/alerts/{alert.id}/rename", data={"csrf_token": token, "name": "Decoding"}
    )
    assert renamed.status_code == 200 and "<h2>Decoding</h2>" in renamed.text
    to_feed = indexed_client.post(
        f"/alerts/{alert.id}/channel", data={"csrf_token": token, "channel": "feed"}
    )
    assert "as a feed" in to_feed.text and "/alerts/feed/" in to_feed.text
    bad = indexed_client.post(
        f"/alerts/{alert.id}/channel", data={"csrf_token": token, "channel": "pigeon"}
    )
    assert bad.status_code == 422
    no_csrf = indexed_client.post(f"/alerts/{alert.id}/delete", follow_redirects=False)
    assert no_csrf.status_code == 403
    deleted = indexed_client.post(f"/alerts/{alert.id}/delete", data={"csrf_token": token})
    assert "You have no alerts yet" in deleted.text


def test_another_members_alert_is_not_found(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada", confirmed=True)
    bob = make_user(filled, "bob", confirmed=True)
    alert = service.save_alert(filled, get_settings(), ada.id, "sparse attention", {})
    sign_in(client, filled, bob)
    token = csrf_of(client, "/alerts")
    taken = client.post(f"/alerts/{alert.id}/delete", data={"csrf_token": token})
    assert taken.status_code == 404
    assert [a.id for a in service.alerts_of(filled, ada.id)] == [alert.id]


def test_the_private_feed_lists_matches_and_can_be_revoked(
    client: TestClient, filled: Store
) -> None:
    ada = make_user(filled, "ada", confirmed=True)
    with filled.write() as connection:  # the papers arrived after the alert was saved
        connection.execute(alerts_table.delete())
    alert = service.save_alert(
        filled, get_settings(), ada.id, "sparse attention", {}, channel="feed",
        now=utc_now() - timedelta(days=30),
    )  # fmt: skip
    service.run_alerts(filled, get_settings(), now=utc_now() + timedelta(seconds=5))
    url = f"/alerts/feed/{service.feed_token(get_settings(), alert)}.atom"
    answer = client.get(url)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    parsed = feedparser.parse(answer.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    titles = [entry.title for entry in parsed.entries]
    assert "MiniMax Sparse Attention" in titles
    assert (
        "matched: sparse, attention"
        in parsed.entries[titles.index("MiniMax Sparse Attention")].summary
    )
    assert "ada@example.org" not in answer.text
    sign_in(client, filled, ada)
    client.post(f"/alerts/{alert.id}/revoke", data={"csrf_token": csrf_of(client, "/alerts")})
    assert client.get(url).status_code == 404
    fresh = service.alerts_of(filled, ada.id)[0]
    assert client.get(f"/alerts/feed/{service.feed_token(get_settings(), fresh)}.atom").is_success
    assert client.get("/alerts/feed/1-forged.atom").status_code == 404


def test_one_click_unsubscribe_deletes_the_alert(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada", confirmed=True)
    alert = service.save_alert(filled, get_settings(), ada.id, "sparse attention", {})
    token = unsubscribe_token(get_settings(), alert.id, ada.id)
    page = client.get(f"/alerts/unsubscribe?token={token}")
    assert page.status_code == 200 and "Stop this alert" in page.text
    assert service.alerts_of(filled, ada.id)  # a GET (a mail scanner) changes nothing
    done = client.post(f"/alerts/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and service.alerts_of(filled, ada.id) == []
    assert client.post("/alerts/unsubscribe?token=forged").status_code == 400


def test_the_alerts_api(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada", confirmed=False)
    write = bearer(api_token(filled, ada, "write"))
    body = {"q": "sparse attention", "categories": ["cs.LG"], "name": "Attention"}
    made = client.post("/api/alerts", json=body, headers=write)
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["channel"] == "feed"  # no confirmed address: a feed
    assert created["feedUrl"].endswith(".atom") and "ada@" not in made.text
    listed = client.get("/api/alerts", headers=bearer(api_token(filled, ada, "read")))
    assert [a["name"] for a in listed.json()] == ["Attention"]
    refused = client.post("/api/alerts", json=body, headers=bearer(api_token(filled, ada)))
    assert refused.status_code == 403
    email = client.post("/api/alerts", json={**body, "channel": "email"}, headers=write)
    assert email.status_code == 422 and "confirm" in email.json()["message"]
    bad = client.post("/api/alerts", json={**body, "categories": ["nope"]}, headers=write)
    assert bad.status_code == 422
    gone = client.delete(f"/api/alerts/{created['id']}", headers=write)
    assert gone.status_code == 204
    assert client.delete(f"/api/alerts/{created['id']}", headers=write).status_code == 404


def test_export_my_data_holds_the_members_alerts(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada")
    service.save_alert(filled, get_settings(), ada.id, "sparse attention", {"code": True})
    sign_in(client, filled, ada)
    exported = client.get("/settings/export.json").json()
    assert [(a["name"], a["query"], a["filters"], a["channel"]) for a in exported["alerts"]] == [
        ("sparse attention", "sparse attention", {"code": True}, "email")
    ]
    assert "feed_key" not in str(exported["alerts"])
