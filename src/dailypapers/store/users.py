"""Accounts' SQL: the ``users`` table (``dailypapers.accounts`` holds the rules).

Rows come back as mappings of the table's columns; :mod:`dailypapers.accounts.service` turns
them into :class:`~dailypapers.accounts.models.User`. User names and emails are matched by
their lower-cased keys, so a look-up ignores case as the unique constraints do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from dailypapers.store.schema import users


class DuplicateUser(Exception):
    """The user name or email is taken (``field`` says which)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is taken")
        self.field = field


def name_key(username: str) -> str:
    return username.lower()


def email_key(email: str | None) -> str | None:
    return email.lower() if email else None


def _taken_field(connection: Connection, username: str, email: str | None) -> str:
    by_name = select(users.c.id).where(users.c.username_key == name_key(username))
    return "username" if connection.execute(by_name).first() else "email"


def insert_user(
    connection: Connection,
    *,
    username: str,
    email: str | None,
    password_hash: str | None,
    role: str,
    created_at: datetime,
    fullname: str | None = None,
    email_confirmed_at: datetime | None = None,
) -> int:
    """Add a user; its id. Raises :class:`DuplicateUser` when the name or email is taken.

    The insert runs in a savepoint, so the caller's transaction goes on after a conflict.
    """
    values = {
        "username": username,
        "username_key": name_key(username),
        "email": email,
        "email_key": email_key(email),
        "fullname": fullname,
        "password_hash": password_hash,
        "role": role,
        "email_confirmed_at": email_confirmed_at,
        "upvotes_public": False,
        "created_at": created_at,
    }
    try:
        with connection.begin_nested():
            inserted = connection.execute(users.insert().values(**values).returning(users.c.id))
            user_id: int = inserted.scalar_one()
    except IntegrityError:
        raise DuplicateUser(_taken_field(connection, username, email)) from None
    return user_id


def user_by_id(connection: Connection, user_id: int) -> RowMapping | None:
    return connection.execute(select(users).where(users.c.id == user_id)).mappings().first()


def user_by_name(connection: Connection, username: str) -> RowMapping | None:
    query = select(users).where(users.c.username_key == name_key(username))
    return connection.execute(query).mappings().first()


def user_by_email(connection: Connection, email: str) -> RowMapping | None:
    query = select(users).where(users.c.email_key == email_key(email))
    return connection.execute(query).mappings().first()


def users_by_ids(connection: Connection, ids: Sequence[int]) -> list[RowMapping]:
    if not ids:
        return []
    return list(connection.execute(select(users).where(users.c.id.in_(ids))).mappings())


def list_users(connection: Connection, *, limit: int = 1000, offset: int = 0) -> list[RowMapping]:
    query = select(users).order_by(users.c.id).limit(limit).offset(offset)
    return list(connection.execute(query).mappings())


def count_users(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(users)).scalar_one())


def update_user(connection: Connection, user_id: int, changes: Mapping[str, Any]) -> bool:
    """Change the columns ``changes`` names (``email`` also moves ``email_key``); True when
    the user exists. Raises :class:`DuplicateUser` when a new email is taken."""
    values = dict(changes)
    if "email" in values:
        values["email_key"] = email_key(values["email"])
    if "username" in values:
        values["username_key"] = name_key(values["username"])
    try:
        with connection.begin_nested():
            result = connection.execute(update(users).where(users.c.id == user_id).values(**values))
    except IntegrityError:
        raise DuplicateUser("email" if "email" in values else "username") from None
    return result.rowcount > 0


def delete_user(connection: Connection, user_id: int) -> bool:
    """Remove the user (its sessions and tokens go with it); True when there was one."""
    return connection.execute(delete(users).where(users.c.id == user_id)).rowcount > 0
