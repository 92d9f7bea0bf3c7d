"""Digest subscriptions through the app: the footer box, double opt-in with a real SMTP
server receiving the confirmation, the same answer whatever the address's state, one mail a
day per address, rate limits, unsubscribing, and unconfirmed rows forgotten after 7 days.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dailypapers.digest import subscriptions as subs
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.batches import utc_now
from dailypapers.web.app import create_app
from tests.support.accounts import csrf_of
from tests.support.smtp import SmtpServer

ADDRESS = "reader@example.org"


@pytest.fixture
def mailing_client(filled: Store, mail_server: SmtpServer) -> Iterator[TestClient]:
    with TestClient(create_app(filled, get_settings())) as test_client:
        yield test_client


def _link(server: SmtpServer, index: int = -1) -> str:
    body = server.messages[index].get_body(("plain",))
    assert body is not None
    found = re.search(r"https?://\S+", body.get_content())
    assert found
    return found.group(0)


def _path(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(("/", ""))


def _subscribe(client: TestClient, address: str = ADDRESS, **extra: object) -> str:
    answer = client.post("/subscribe", data={"email": address, "frequency": "daily", **extra})
    assert answer.status_code == 200, answer.text
    assert address not in answer.text
    return answer.text


def test_footer_box_is_on_every_page_without_a_csrf_field(client: TestClient) -> None:
    for path in ("/", "/trending", "/about"):
        page = client.get(path).text
        box = page[page.index('class="subscribe-box"') :]
        box = box[: box.index("</form>")]
        assert 'action="/subscribe"' in box and 'name="email"' in box
        assert "csrf_token" not in box
        assert "set-cookie" not in client.get(path).headers


def test_double_opt_in_from_the_received_mail(
    mailing_client: TestClient, mail_server: SmtpServer, filled: Store
) -> None:
    answer = _subscribe(mailing_client, category=["cs.CL"])
    assert "Check your mail" in answer
    assert [m["To"] for m in mail_server.messages] == [ADDRESS]
    assert subs.all_subscriptions(filled)[0].status == "pending"
    link = _link(mail_server)
    page = mailing_client.get(_path(link))
    assert page.status_code == 200 and "Confirm" in page.text
    assert subs.all_subscriptions(filled)[0].status == "pending"  # a GET confirms nothing
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    done = mailing_client.post(
        "/subscribe/confirm",
        data={"token": token.group(1), "csrf_token": csrf_of(mailing_client, _path(link))},
    )
    assert done.status_code == 200 and "Subscribed" in done.text
    (found,) = subs.all_subscriptions(filled)
    assert (found.status, found.frequency, found.categories) == ("confirmed", "daily", ("cs.CL",))


def test_confirm_needs_the_csrf_token(mailing_client: TestClient, mail_server: SmtpServer) -> None:
    _subscribe(mailing_client)
    token = _link(mail_server).split("token=", 1)[1]
    assert mailing_client.post("/subscribe/confirm", data={"token": token}).status_code == 403


def strip(text: str) -> str:
    """A page without its form values (the CSRF token differs between answers)."""
    return re.sub(r'value="[^"]*"', "", text)


def test_same_answer_and_one_mail_a_day_whatever_the_state(
    mailing_client: TestClient, mail_server: SmtpServer, filled: Store
) -> None:
    first = _subscribe(mailing_client)
    again = _subscribe(mailing_client)
    subs.add_subscriber(filled, get_settings(), "known@example.org", confirmed=True)
    known = _subscribe(mailing_client, "known@example.org")
    assert strip(first) == strip(again) == strip(known)
    # The new address got its one mail; the imported one got one (never mailed before).
    assert sorted(m["To"] for m in mail_server.messages) == ["known@example.org", ADDRESS]
    known_again = _subscribe(mailing_client, "known@example.org")
    assert strip(known_again) == strip(first) and len(mail_server.messages) == 2
    later = utc_now() + timedelta(days=1, minutes=1)
    made = subs.subscribe(filled, get_settings(), ADDRESS, "weekly", now=later)
    assert made is not None and made[1]["f"] == "weekly"


def test_a_confirmed_subscription_changes_only_by_its_link(
    mailing_client: TestClient, mail_server: SmtpServer, filled: Store
) -> None:
    subs.add_subscriber(filled, get_settings(), ADDRESS, "daily", confirmed=True)
    _subscribe(mailing_client, frequency="weekly")
    (found,) = subs.all_subscriptions(filled)
    assert (found.status, found.frequency) == ("confirmed", "daily")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "not an address"}, "does not look like an email address"),
        ({"email": "Ada <ada@example.org>"}, "the address alone"),
        ({"email": ADDRESS, "frequency": "hourly"}, "choose daily or weekly"),
        ({"email": ADDRESS, "category": "hep-th"}, "unknown category"),
    ],
)
def test_bad_input_is_a_422_with_a_message(
    client: TestClient, form: dict[str, str], message: str, filled: Store
) -> None:
    answer = client.post("/subscribe", data=form)
    assert answer.status_code == 422 and message in answer.text
    assert subs.all_subscriptions(filled) == []


def test_subscriptions_are_rate_limited_per_ip(
    filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_LIMIT_SUBSCRIBE", "ip:2/1h")
    get_settings.cache_clear()
    with TestClient(create_app(filled, get_settings())) as client:
        for number in range(2):
            _subscribe(client, f"r{number}@example.org")
        refused = client.post("/subscribe", data={"email": "r9@example.org"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert len(subs.all_subscriptions(filled)) == 2


def test_unsubscribe_page_and_one_click(
    mailing_client: TestClient, mail_server: SmtpServer, filled: Store
) -> None:
    from dailypapers.digest.links import unsubscribe_token

    found, _new = subs.add_subscriber(filled, get_settings(), ADDRESS, confirmed=True)
    token = unsubscribe_token(get_settings(), found.id, subs.email_key(ADDRESS))
    page = mailing_client.get(f"/unsubscribe?token={token}")
    assert page.status_code == 200 and "Unsubscribe</button>" in page.text
    assert ADDRESS not in page.text
    assert len(subs.all_subscriptions(filled)) == 1  # a GET (a mail scanner) changes nothing
    fresh = TestClient(mailing_client.app)  # no cookies: RFC 8058 needs no log-in
    done = fresh.post(f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Unsubscribed" in done.text
    assert subs.all_subscriptions(filled) == []
    assert fresh.post(f"/unsubscribe?token={token}").status_code == 200  # twice: still fine
    assert mailing_client.get("/unsubscribe?token=forged").status_code == 400


def test_unconfirmed_subscriptions_are_forgotten_after_seven_days(filled: Store) -> None:
    settings = get_settings()
    subs.subscribe(filled, settings, "old@example.org", "daily", now=utc_now() - timedelta(days=8))
    subs.subscribe(filled, settings, "new@example.org", "daily")
    subs.add_subscriber(filled, settings, "kept@example.org", confirmed=True)
    assert subs.forget_unconfirmed(filled) == 1
    left = sorted(found.email for found in subs.all_subscriptions(filled))
    assert left == ["kept@example.org", "new@example.org"]
