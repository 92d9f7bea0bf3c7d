"""What a verified GitHub or ORCID identity does: log in, link, sign up, unlink.

The rules a careful site keeps (the identity comes from :mod:`dailypapers.accounts.oauth_flow`):

- an identity already linked logs its account in (a suspended account is refused);
- a signed-in user links an identity from the settings page, unless another account holds it;
- an unknown identity while signed out makes a new account: the user name from the provider's
  login or name, made unique; the email kept and confirmed only when the provider says it is
  verified;
- never linked to an existing account because the email matches (whoever controls that
  email at the provider would take the account over): the person is told to log in and link;
- unlinking never leaves an account with no way to log in (a password or another identity).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dailypapers.accounts import service as accounts
from dailypapers.accounts.models import AccountError, User
from dailypapers.accounts.oauth_flow import PROVIDER_NAMES, OAuthFailure, VerifiedIdentity

__all__ = [
    "LinkedIdentity",
    "OAuthFailure",
    "VerifiedIdentity",
    "identities_of",
    "link",
    "log_in_with",
    "unlink",
]
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import identities as rows


@dataclass(frozen=True)
class LinkedIdentity:
    provider: str
    subject: str
    linked_at: datetime

    @property
    def label(self) -> str:
        return PROVIDER_NAMES.get(self.provider, self.provider)


def log_in_with(store: Store, settings: Settings, identity: VerifiedIdentity) -> User:
    """The account of ``identity``, made now if nobody has it and its email is free."""
    label = PROVIDER_NAMES[identity.provider]
    user = _linked_user(store, identity)
    if user is not None:
        return user
    if identity.email and accounts.user_by_email(store, identity.email) is not None:
        raise OAuthFailure(
            f"An account with this email exists. Log in to it and link your {label} "
            "account from its settings page.",
            409,
        )
    user = _new_account(store, settings, identity)
    try:
        with store.write() as connection:
            rows.link_identity(
                connection, identity.provider, identity.subject, user.id, accounts.utcnow()
            )
    except rows.IdentityTaken:
        # Someone finished the same log-in a moment earlier: theirs is the account.
        accounts.delete_user(store, user.id)
        held = _linked_user(store, identity)
        if held is None:
            raise OAuthFailure(f"Log-in with {label} failed; please try again.", 409) from None
        return held
    return user


def _linked_user(store: Store, identity: VerifiedIdentity) -> User | None:
    with store.read() as connection:
        user_id = rows.user_of_identity(connection, identity.provider, identity.subject)
    if user_id is None:
        return None
    user = accounts.user_by_id(store, user_id)
    if user is None or user.suspended:
        raise OAuthFailure("This account is suspended.", 403)
    return user


def _new_account(store: Store, settings: Settings, identity: VerifiedIdentity) -> User:
    base = _username_base(identity)
    for attempt in range(1, 200):
        username = base if attempt == 1 else f"{base[:34]}-{attempt}"
        if accounts.find_user(store, username) is not None:
            continue
        try:
            return accounts.create_user(
                store,
                settings,
                username,
                identity.email if identity.email_verified else None,
                fullname=identity.name,
                confirmed=identity.email_verified,
            )
        except AccountError as refused:
            if refused.field == "email":
                raise OAuthFailure(
                    "An account with this email exists. Log in to it and link this "
                    "identity from its settings page.",
                    409,
                ) from None
            if refused.field != "username":
                raise OAuthFailure(f"No account could be made: {refused}.", 400) from None
    raise OAuthFailure("No free user name was found; please sign up with a password.", 409)


def _username_base(identity: VerifiedIdentity) -> str:
    """A user name that the account rules accept, from the login or the name."""
    for candidate in (identity.login, identity.name):
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", candidate or "").strip("-_.")[:38]
        slug = re.sub(r"[-_.]+$", "", slug)
        if slug:
            return slug
    return f"{identity.provider}-{re.sub(r'[^0-9A-Za-z]', '', identity.subject)[-12:]}"


def link(store: Store, user: User, identity: VerifiedIdentity) -> None:
    """Link ``identity`` to the signed-in ``user`` (again is fine; another's is refused)."""
    label = PROVIDER_NAMES[identity.provider]
    try:
        with store.write() as connection:
            holder = rows.user_of_identity(connection, identity.provider, identity.subject)
            if holder == user.id:
                return
            if holder is not None:
                raise OAuthFailure(
                    f"This {label} account is linked to another account of this site; "
                    "unlink it there first.",
                    409,
                )
            rows.link_identity(
                connection, identity.provider, identity.subject, user.id, accounts.utcnow()
            )
    except rows.IdentityTaken:
        raise OAuthFailure(f"This {label} account was linked elsewhere just now.", 409) from None


def identities_of(store: Store, user_id: int) -> list[LinkedIdentity]:
    with store.read() as connection:
        found = rows.identities_of_user(connection, user_id)
    return [LinkedIdentity(row["provider"], row["subject"], row["linked_at"]) for row in found]


def unlink(store: Store, user: User, provider: str) -> None:
    """Unlink the user's ``provider`` identity, unless it is their only way to log in."""
    with store.write() as connection:
        linked = rows.identities_of_user(connection, user.id)
        here = [row for row in linked if row["provider"] == provider]
        if not here:
            raise OAuthFailure("That identity is not linked to your account.", 404)
        if user.password_hash is None and len(linked) == len(here):
            raise OAuthFailure(
                "This is your only way to log in: set a password or link another identity first.",
                409,
            )
        rows.unlink_identity(connection, user.id, provider)
