"""Identities at GitHub and ORCID linked to accounts: the ``identities`` table's SQL.

The rules (who may link or unlink what) are in :mod:`dailypapers.accounts.oauth`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from dailypapers.store.schema import identities


class IdentityTaken(Exception):
    """The identity is already linked to an account."""


def user_of_identity(connection: Connection, provider: str, subject: str) -> int | None:
    query = select(identities.c.user_id).where(
        identities.c.provider == provider, identities.c.subject == subject
    )
    return connection.execute(query).scalar_one_or_none()


def link_identity(
    connection: Connection, provider: str, subject: str, user_id: int, linked_at: datetime
) -> None:
    """Link, or raise :class:`IdentityTaken` when some account holds it already."""
    row = {"provider": provider, "subject": subject, "user_id": user_id, "linked_at": linked_at}
    try:
        with connection.begin_nested():
            connection.execute(insert(identities).values(row))
    except IntegrityError:
        raise IdentityTaken(f"{provider} {subject}") from None


def identities_of_user(connection: Connection, user_id: int) -> list[RowMapping]:
    query = (
        select(identities)
        .where(identities.c.user_id == user_id)
        .order_by(identities.c.provider, identities.c.linked_at)
    )
    return list(connection.execute(query).mappings())


def count_identities(connection: Connection, user_id: int) -> int:
    query = select(func.count()).select_from(identities).where(identities.c.user_id == user_id)
    return int(connection.execute(query).scalar_one())


def unlink_identity(connection: Connection, user_id: int, provider: str) -> int:
    """Remove the user's identities at ``provider``; the number removed."""
    query = delete(identities).where(
        identities.c.user_id == user_id, identities.c.provider == provider
    )
    return int(connection.execute(query).rowcount)
