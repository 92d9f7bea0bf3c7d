"""The account types every caller shares: :class:`User`, roles, token scopes, the error."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ROLES = ("user", "moderator", "admin")  # each can do what the ones before it can
SCOPES = ("read", "write")


class AccountError(ValueError):
    """A request the account rules refuse; its message is meant for the person.

    ``field`` names the form field at fault when there is one (``username``, ``email``...).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class User:
    """A user as stored (``password_hash`` stays out of ``repr`` and of exports)."""

    id: int
    username: str
    email: str | None
    fullname: str | None
    role: str
    email_confirmed_at: datetime | None
    suspended_at: datetime | None
    upvotes_public: bool
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)

    @property
    def confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def display_name(self) -> str:
        return self.fullname or self.username

    def has_role(self, role: str) -> bool:
        """Whether the user holds ``role`` or one above it (admin > moderator > user)."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @classmethod
    def from_row(cls, row: Any) -> User:
        """From a row of the ``users`` table (a mapping of its columns)."""
        return cls(
            id=row["id"],
            username=row["username"],
            email=row["email"],
            fullname=row["fullname"],
            role=row["role"],
            email_confirmed_at=row["email_confirmed_at"],
            suspended_at=row["suspended_at"],
            upvotes_public=bool(row["upvotes_public"]),
            created_at=row["created_at"],
            password_hash=row["password_hash"],
        )
