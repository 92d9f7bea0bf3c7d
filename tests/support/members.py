"""Members for tests: accounts made straight in the store (as ``dailypapers users create``
makes them: confirmed), many at once for the concurrency tests."""

from __future__ import annotations

from datetime import datetime

from dailypapers.store.users import insert_user

from dailypapers.store import Store

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
