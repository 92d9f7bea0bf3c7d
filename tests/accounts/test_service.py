"""Accounts' service on both databases: users unique whatever the case, argon2id hashes
rehashed when the parameters change, sessions and API tokens kept only as hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dailypapers.accounts import AccountError
from dailypapers.accounts import service as accounts
from dailypapers.accounts.passwords import password_problem
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.schema import api_tokens, sessions, users
from tests.support.accounts import PASSWORD, make_user


def test_user_names_and_emails_are_unique_whatever_their_case(store: Store) -> None:
    make_user(store, "Ada", email="Ada@Example.org")
    with pytest.raises(AccountError, match="username is taken"):
        make_user(store, "ada", email="other@example.org")
    with pytest.raises(AccountError, match="email is taken"):
        make_user(store, "grace", email="ada@EXAMPLE.org")
    found = accounts.find_user(store, "ADA")
    assert found is not None and found.username == "Ada"
    assert accounts.user_by_email(store, "ada@example.org") == found


def test_bad_names_emails_and_passwords_are_refused(store: Store) -> None:
    for name in ("<b>x</b>", "-ada", "a" * 40, "a b"):
        with pytest.raises(AccountError, match="user name"):
            make_user(store, name, email="x@example.org")
    with pytest.raises(AccountError, match="email"):
        make_user(store, "ada", email="not an email")
    assert password_problem("short") is not None
    assert password_problem("1234567890") == (
        "this password is in a list of common passwords; choose another"
    )
    assert password_problem("adalovelace1", username="adalovelace1") is not None
    assert password_problem(PASSWORD) is None


def test_passwords_are_argon2id_and_rehashed_when_parameters_change(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(store, "ada")
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert "m=256,t=1" in user.password_hash
    settings = get_settings()
    assert accounts.authenticate(store, settings, "ada", "wrong password!") is None
    assert accounts.authenticate(store, settings, "ada", PASSWORD) is not None
    assert accounts.find_user(store, "ada").password_hash == user.password_hash  # type: ignore[union-attr]

    monkeypatch.setenv("DAILYPAPERS_PASSWORD_TIME_COST", "2")
    monkeypatch.setenv("DAILYPAPERS_PASSWORD_MEMORY_KIB", "512")
    get_settings.cache_clear()
    signed_in = accounts.authenticate(store, get_settings(), "ada@example.org", PASSWORD)
    assert signed_in is not None
    rehashed = accounts.find_user(store, "ada").password_hash  # type: ignore[union-attr]
    assert rehashed is not None and "m=512,t=2" in rehashed and rehashed != user.password_hash
    assert accounts.authenticate(store, get_settings(), "ada", PASSWORD) is not None


def test_unknown_logins_and_suspended_users_are_refused(store: Store) -> None:
    settings = get_settings()
    assert accounts.authenticate(store, settings, "nobody", PASSWORD) is None
    assert accounts.authenticate(store, settings, "nobody@example.org", PASSWORD) is None
    oauth_only = make_user(store, "orcid", password=None)
    assert oauth_only.password_hash is None
    assert accounts.authenticate(store, settings, "orcid", "") is None


def test_sessions_resolve_end_and_are_stored_hashed(store: Store) -> None:
    settings = get_settings()
    ada = make_user(store, "ada")
    first = accounts.start_session(store, settings, ada)
    second = accounts.start_session(store, settings, ada)
    assert first != second
    resolved = accounts.resolve_session(store, first)
    assert resolved is not None and resolved.user.id == ada.id and resolved.rotated_token is None
    with store.read() as connection:
        stored = connection.execute(select(sessions.c.token_hash)).scalars().all()
    assert first not in stored and accounts.token_hash(first) in stored
    accounts.end_session(store, first)
    assert accounts.resolve_session(store, first) is None
    assert accounts.resolve_session(store, second) is not None
    assert accounts.end_all_sessions(store, ada.id) == 1
    assert accounts.resolve_session(store, second) is None
    assert accounts.resolve_session(store, "made-up") is None


def test_a_change_of_role_rotates_the_session_token(store: Store) -> None:
    ada = make_user(store, "ada")
    token = accounts.start_session(store, get_settings(), ada)
    with store.write() as connection:
        connection.execute(users.update().where(users.c.id == ada.id).values(role="moderator"))
    rotated = accounts.resolve_session(store, token)
    assert rotated is not None and rotated.rotated_token is not None
    assert rotated.user.role == "moderator"
    assert accounts.resolve_session(store, token) is None  # the old token is gone
    again = accounts.resolve_session(store, rotated.rotated_token)
    assert again is not None and again.rotated_token is None


def test_api_tokens_have_a_scope_and_can_be_revoked(store: Store) -> None:
    ada = make_user(store, "ada")
    token, made = accounts.create_token(store, ada, "laptop", "write")
    assert token.startswith("dp_") and made.prefix == token[:10]
    resolved = accounts.resolve_bearer(store, token)
    assert resolved is not None and resolved.can_write and resolved.user.id == ada.id
    with store.read() as connection:
        assert token not in connection.execute(select(api_tokens.c.token_hash)).scalars().all()
    assert [t.name for t in accounts.list_tokens(store, ada.id)] == ["laptop"]
    grace = make_user(store, "grace")
    assert not accounts.revoke_token(store, grace.id, made.id)  # not hers
    assert accounts.revoke_token(store, ada.id, made.id)
    assert accounts.resolve_bearer(store, token) is None
    with pytest.raises(AccountError):
        accounts.create_token(store, ada, "x", "admin")


def test_deleting_a_user_takes_sessions_and_tokens_along(store: Store) -> None:
    from dailypapers.store import users as user_rows

    ada = make_user(store, "ada")
    session = accounts.start_session(store, get_settings(), ada)
    token, _ = accounts.create_token(store, ada, "t")
    with store.write() as connection:
        assert user_rows.delete_user(connection, ada.id)
    assert accounts.resolve_session(store, session) is None
    assert accounts.resolve_bearer(store, token) is None
    with store.read() as connection:
        assert connection.execute(select(sessions)).all() == []
