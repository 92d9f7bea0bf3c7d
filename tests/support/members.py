"""Members for tests: accounts made straight in the store (as ``dailypapers users create``
makes them: confirmed), many at once for the concurrency tests; signed in through the
accounts' own helpers (``tests.support.accounts``) by id."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from playwright._impl._api_structures import SetCookieParam

from dailypapers.accounts import User
from dailypapers.accounts.service import start_session, user_by_id
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.users import insert_user, update_user
from dailypapers.web.auth import SESSION_COOKIE
from tests.support import accounts

CREATED = datetime(2026, 1, 1)


def add_members(store: Store, count: int, prefix: str = "member") -> list[int]:
    """``count`` confirmed members named ``prefix0``, ``prefix1``...; their ids."""
    with store.write() as connection:
        return [
            insert_user(
                connection,
                username=f"{prefix}{index}",
                email=f"{prefix}{index}@example.org",
                password_hash=None,
                role="user",
                created_at=CREATED,
                email_confirmed_at=CREATED,
            )
            for index in range(count)
        ]


def member(store: Store, user_id: int) -> User:
    found = user_by_id(store, user_id)
    assert found is not None, user_id
    return found


def sign_in(client: TestClient, store: Store, user_id: int) -> str:
    """Sign ``client`` in as the member ``user_id`` (a real session); the session token."""
    return accounts.sign_in(client, store, member(store, user_id))


def api_token(store: Store, user_id: int, scope: str) -> str:
    return accounts.api_token(store, member(store, user_id), scope)


def set_role(store: Store, user_id: int, role: str) -> None:
    with store.write() as connection:
        update_user(connection, user_id, {"role": role})


def session_cookie(store: Store, user_id: int, url: str) -> SetCookieParam:
    """A signed-in session of ``user_id`` as a browser cookie for the site at ``url``."""
    token = start_session(store, get_settings(), member(store, user_id))
    return {"name": SESSION_COOKIE, "value": token, "url": url}
