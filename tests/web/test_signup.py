"""Sign-up, confirmation, reset, email and password changes, export and deletion through the
real app, reading the mail the development sender writes under DATA_DIR/mail."""

from __future__ import annotations

import email
import json
import re
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from fastapi.testclient import TestClient

from dailypapers.accounts import service as accounts
from dailypapers.settings import get_settings
from dailypapers.store import Store
from tests.support.accounts import PASSWORD, csrf_of, make_user, sign_in

LINK_RE = re.compile(r"http://testserver(/[^\s]+)")


def mails() -> list[EmailMessage]:
    folder = get_settings().data_dir / "mail"
    paths = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    parsed = [email.message_from_bytes(p.read_bytes(), policy=default) for p in paths]
    return [message for message in parsed if isinstance(message, EmailMessage)]


def link_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK_RE.search(body.get_content())
    assert found, body.get_content()
    return found.group(1)


def _post_form_of_link(client: TestClient, path: str) -> tuple[str, dict[str, str]]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    main = page.text[page.text.index("<main") :]  # the header has a log-out form too
    action = re.search(r'<form method="post" action="([^"]+)"', main).group(1)  # type: ignore[union-attr]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', main))
    return action, fields


def _strip(text: str) -> str:
    """A page without its form values (the tokens and what was typed back)."""
    return re.sub(r'value="[^"]*"', "", text)


def sign_up(client: TestClient, username: str, address: str, password: str = PASSWORD) -> str:
    data = {
        "username": username,
        "email": address,
        "password": password,
        "csrf_token": csrf_of(client, "/signup"),
    }
    return client.post("/signup", data=data).text


def test_sign_up_confirm_from_the_mail_and_log_in(client: TestClient, filled: Store) -> None:
    answer = sign_up(client, "ada", "ada@example.org")
    assert "Check your mail" in answer
    (mail,) = mails()
    assert mail["To"] == "ada@example.org" and mail["Subject"] == "Confirm your email address"
    user = accounts.find_user(filled, "ada")
    assert user is not None and not user.confirmed
    action, fields = _post_form_of_link(client, link_in(mail))
    assert action == "/confirm"
    confirmed = client.post(action, data=fields)
    assert "ada@example.org is confirmed" in confirmed.text
    assert accounts.find_user(filled, "ada").confirmed  # type: ignore[union-attr]
    assert client.post(action, data={**fields, "token": fields["token"] + "x"}).status_code == 400


def test_sign_up_does_not_tell_whether_an_address_has_an_account(
    client: TestClient, filled: Store
) -> None:
    make_user(filled, "ada", email="ada@example.org")
    taken = sign_up(client, "ada2", "ADA@example.org")
    fresh = sign_up(client, "grace", "grace@example.org")
    assert _strip(taken) == _strip(fresh)
    to_owner, to_new = mails()
    assert to_owner["To"] == "ADA@example.org" and "already have an account" in to_owner["Subject"]
    assert to_new["To"] == "grace@example.org"
    assert accounts.find_user(filled, "ada2") is None
    # A taken user name is said (names are public on profiles); the form keeps what was typed.
    again = client.post(
        "/signup",
        data={
            "username": "ADA",
            "email": "x@example.org",
            "password": PASSWORD,
            "csrf_token": csrf_of(client, "/signup"),
        },
    )
    assert again.status_code == 422 and "username is taken" in again.text
    weak = client.post(
        "/signup",
        data={
            "username": "bob",
            "email": "bob@example.org",
            "password": "password123",
            "csrf_token": csrf_of(client, "/signup"),
        },
    )
    assert weak.status_code == 422 and "common passwords" in weak.text


def test_reset_does_not_tell_and_its_link_works_once(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada")
    old_session = accounts.start_session(filled, get_settings(), ada)
    answers = [
        client.post(
            "/password/forgot",
            data={"email": address, "csrf_token": csrf_of(client, "/password/forgot")},
        ).text
        for address in ("ada@example.org", "nobody@example.org")
    ]
    assert _strip(answers[0]) == _strip(answers[1])
    (mail,) = mails()  # only the real account got one
    path = link_in(mail)
    action, fields = _post_form_of_link(client, path)
    weak = client.post(action, data={**fields, "password": "short"})
    assert weak.status_code == 422
    done = client.post(action, data={**fields, "password": "a brand new passphrase"})
    assert "Password changed" in done.text
    assert accounts.authenticate(filled, get_settings(), "ada", "a brand new passphrase")
    assert accounts.resolve_session(filled, old_session) is None  # every session ended
    assert client.get(path).status_code == 400  # used
    again = client.post(action, data={**fields, "password": "another new passphrase"})
    assert again.status_code == 400


def test_change_password_and_email_then_export_and_delete(
    client: TestClient, filled: Store
) -> None:
    ada = make_user(filled, "ada")
    other = accounts.start_session(filled, get_settings(), ada)
    current = sign_in(client, filled, ada)
    wrong = client.post(
        "/settings/password",
        data={
            "current_password": "nope nope nope",
            "new_password": "fresh passphrase 1",
            "csrf_token": csrf_of(client),
        },
    )
    assert wrong.status_code == 422 and "current password is not right" in wrong.text
    changed = client.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "new_password": "fresh passphrase 1",
            "csrf_token": csrf_of(client),
        },
    )
    assert changed.status_code == 200 and "password is changed" in changed.text
    assert accounts.resolve_session(filled, other) is None
    assert accounts.resolve_session(filled, current) is not None

    client.post(
        "/settings/email",
        data={
            "email": "lovelace@example.org",
            "current_password": "fresh passphrase 1",
            "csrf_token": csrf_of(client),
        },
    )
    (mail,) = mails()
    assert mail["To"] == "lovelace@example.org"
    action, fields = _post_form_of_link(client, link_in(mail))
    assert "now lovelace@example.org" in client.post(action, data=fields).text
    assert accounts.find_user(filled, "ada").email == "lovelace@example.org"  # type: ignore[union-attr]

    exported = client.get("/settings/export.json")
    assert exported.headers["cache-control"] == "private, no-store"
    data = json.loads(exported.text)
    assert data["user"]["email"] == "lovelace@example.org" and "password" not in exported.text
    assert len(data["sessions"]) == 1

    refused = client.post(
        "/settings/delete",
        data={"confirm": "ada", "current_password": "x", "csrf_token": csrf_of(client)},
    )
    assert refused.status_code == 422 and accounts.find_user(filled, "ada") is not None
    deleted = client.post(
        "/settings/delete",
        data={
            "confirm": "ada",
            "current_password": "fresh passphrase 1",
            "csrf_token": csrf_of(client),
        },
    )
    assert "Account deleted" in deleted.text and accounts.find_user(filled, "ada") is None
    assert client.get("/settings", follow_redirects=False).status_code == 303


def test_log_in_is_rate_limited(client: TestClient, filled: Store, monkeypatch: object) -> None:
    make_user(filled, "ada")
    csrf = csrf_of(client, "/login")
    statuses = [
        client.post(
            "/login", data={"login": "ada", "password": "wrong password", "csrf_token": csrf}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


def test_mail_folder_is_where_the_sender_writes(client: TestClient) -> None:
    assert isinstance(get_settings().data_dir, Path)
