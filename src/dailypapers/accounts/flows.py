"""The account flows that span a mail or a check: sign up, confirm, reset a password, change
email or password, delete, export, and what admins do (roles, suspension).

Functions that mail return the :class:`~dailypapers.accounts.mails.AccountMail` to send;
the caller sends them (the web after its answer, so answering takes the same time whether
an address has an account or not). No answer says whether an email address is registered:
a sign-up with a known address mails its owner instead, a reset for an unknown address
mails nobody, and both answer "check your mail" alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dailypapers.accounts import links
from dailypapers.accounts.mails import (
    AccountMail,
    already_registered_mail,
    change_email_mail,
    confirm_mail,
    reset_mail,
)
from dailypapers.accounts.models import ROLES, AccountError, User
from dailypapers.accounts.passwords import hash_password, password_problem, verify_password
from dailypapers.accounts.service import (
    create_user,
    delete_user,
    email_problem,
    end_all_sessions,
    list_tokens,
    utcnow,
)
from dailypapers.community.votes import suspension_changed
from dailypapers.discussion import comments as discussion
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import sessions as session_rows
from dailypapers.store import users as user_rows

# Other packages add their part of a user's export here (``name -> function(store, user)``),
# e.g. community adds the user's votes and submissions.
EXPORTS: dict[str, Callable[[Store, User], Any]] = {}


def register_export(name: str, export: Callable[[Store, User], Any]) -> None:
    EXPORTS[name] = export


def _user(store: Store, user_id: int) -> User | None:
    with store.read() as connection:
        row = user_rows.user_by_id(connection, user_id)
    return User.from_row(row) if row else None


def _update(store: Store, user_id: int, **changes: Any) -> None:
    try:
        with store.write() as connection:
            user_rows.update_user(connection, user_id, changes)
    except user_rows.DuplicateUser as taken:
        raise AccountError(f"that {taken.field} is taken", field=taken.field) from None


def confirmation_mail(settings: Settings, base_url: str, user: User) -> AccountMail:
    assert user.email is not None
    url = links.link(base_url, settings, "confirm", {"u": user.id, "e": user.email.lower()})
    return confirm_mail(user.email, user.username, url)


def _reset_link(settings: Settings, base_url: str, user: User) -> str:
    payload = {"u": user.id, "p": links.password_fingerprint(user.password_hash)}
    return links.link(base_url, settings, "reset", payload)


def sign_up(
    store: Store, settings: Settings, base_url: str, username: str, email: str, password: str
) -> list[AccountMail]:
    """Make an unconfirmed account and the mail confirming it.

    :class:`AccountError` for a bad or taken user name, a bad address or password. A taken
    address is no error: its owner gets a mail saying so, and the answer is the same.
    """
    try:
        user = create_user(store, settings, username, email, password=password)
    except AccountError as refused:
        if refused.field != "email":
            raise
        with store.read() as connection:
            row = user_rows.user_by_email(connection, email.strip())
        if row is None:
            raise
        owner = User.from_row(row)
        return [
            already_registered_mail(
                email.strip(), owner.username, _reset_link(settings, base_url, owner)
            )
        ]
    return [confirmation_mail(settings, base_url, user)]


def resend_confirmation(settings: Settings, base_url: str, user: User) -> list[AccountMail]:
    if user.confirmed or user.email is None:
        return []
    return [confirmation_mail(settings, base_url, user)]


def confirm_email(store: Store, settings: Settings, token: str) -> User:
    """Confirm the address a link was made for; :class:`AccountError` when it cannot."""
    payload = links.read_token(settings, "confirm", token)
    user = _user(store, int(payload.get("u", 0)))
    if user is None or (user.email or "").lower() != payload.get("e"):
        raise AccountError("this link is for an address the account no longer has")
    if not user.confirmed:
        _update(store, user.id, email_confirmed_at=utcnow())
    return _user(store, user.id) or user


def request_reset(store: Store, settings: Settings, base_url: str, email: str) -> list[AccountMail]:
    """The reset mail for the account with this address (none for an unknown address)."""
    with store.read() as connection:
        row = user_rows.user_by_email(connection, email.strip()) if "@" in email else None
    if row is None:
        return []
    user = User.from_row(row)
    if user.suspended or user.email is None:
        return []
    return [reset_mail(user.email, user.username, _reset_link(settings, base_url, user))]


def reset_user(store: Store, settings: Settings, token: str) -> User:
    """The user a reset link is for; :class:`AccountError` when used, expired or forged."""
    payload = links.read_token(settings, "reset", token)
    user = _user(store, int(payload.get("u", 0)))
    if user is None or links.password_fingerprint(user.password_hash) != payload.get("p"):
        raise AccountError("this link has been used already; ask for a new one")
    return user


def reset_password(store: Store, settings: Settings, token: str, password: str) -> User:
    """Set a new password from a reset link; every session of the account ends. Opening the
    link proves the address, so an unconfirmed one is confirmed too."""
    user = reset_user(store, settings, token)
    problem = password_problem(password, username=user.username, email=user.email)
    if problem:
        raise AccountError(problem, field="password")
    changes: dict[str, Any] = {"password_hash": hash_password(password, settings)}
    if not user.confirmed:
        changes["email_confirmed_at"] = utcnow()
    _update(store, user.id, **changes)
    end_all_sessions(store, user.id)
    return _user(store, user.id) or user


def _check_password(user: User, password: str, settings: Settings) -> None:
    if user.password_hash is not None and not verify_password(
        user.password_hash, password, settings
    ):
        raise AccountError("the current password is not right", field="current_password")


def change_password(
    store: Store,
    settings: Settings,
    user: User,
    current: str,
    new: str,
    *,
    keep_token: str | None = None,
) -> None:
    """A new password (the current one checked); other sessions end."""
    _check_password(user, current, settings)
    problem = password_problem(new, username=user.username, email=user.email)
    if problem:
        raise AccountError(problem, field="new_password")
    _update(store, user.id, password_hash=hash_password(new, settings))
    end_all_sessions(store, user.id, keep_token=keep_token)


def request_email_change(
    store: Store, settings: Settings, base_url: str, user: User, password: str, new_email: str
) -> list[AccountMail]:
    """The mail to the new address confirming it; the address changes when it is opened.

    A new address another account has gets no mail (and the same answer)."""
    _check_password(user, password, settings)
    new_email = new_email.strip()
    problem = email_problem(new_email)
    if problem:
        raise AccountError(problem, field="email")
    with store.read() as connection:
        if user_rows.user_by_email(connection, new_email) is not None:
            return []
    url = links.link(base_url, settings, "change-email", {"u": user.id, "e": new_email})
    return [change_email_mail(new_email, user.username, url)]


def confirm_email_change(store: Store, settings: Settings, token: str) -> User:
    payload = links.read_token(settings, "change-email", token)
    user = _user(store, int(payload.get("u", 0)))
    if user is None:
        raise AccountError("this link is for an account that no longer exists")
    email = str(payload.get("e", ""))
    _update(store, user.id, email=email, email_confirmed_at=utcnow())
    return _user(store, user.id) or user


def delete_account(store: Store, settings: Settings, user: User, password: str) -> None:
    """Delete the account (password checked): sessions, tokens and what hangs off it go."""
    _check_password(user, password, settings)
    delete_user(store, user.id)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def export_data(store: Store, user: User) -> dict[str, Any]:
    """Everything the site keeps about ``user``, as JSON-ready data (no secrets)."""
    with store.read() as connection:
        sessions = session_rows.user_sessions(connection, user.id, utcnow())
    data: dict[str, Any] = {
        "user": {
            "username": user.username,
            "email": user.email,
            "fullname": user.fullname,
            "role": user.role,
            "emailConfirmedAt": _time(user.email_confirmed_at),
            "suspendedAt": _time(user.suspended_at),
            "upvotesPublic": user.upvotes_public,
            "createdAt": _time(user.created_at),
            "hasPassword": user.password_hash is not None,
        },
        "sessions": [
            {
                "createdAt": _time(row["created_at"]),
                "expiresAt": _time(row["expires_at"]),
                "userAgent": row["user_agent"],
            }
            for row in sessions
        ],
        "apiTokens": [
            {
                "name": token.name,
                "prefix": token.prefix,
                "scope": token.scope,
                "createdAt": _time(token.created_at),
                "lastUsedAt": _time(token.last_used_at),
            }
            for token in list_tokens(store, user.id)
        ],
    }
    for name, export in EXPORTS.items():
        data[name] = export(store, user)
    return data


def set_role(store: Store, user: User, role: str) -> User:
    """Give ``user`` a role; their sessions get new tokens at their next request."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    _update(store, user.id, role=role)
    return _user(store, user.id) or user


def set_suspended(store: Store, user: User, suspended: bool) -> User:
    """Suspend (every session and token stops working) or reinstate ``user``."""
    _update(store, user.id, suspended_at=utcnow() if suspended else None)
    suspension_changed(store, user.id)  # their upvotes stop counting, or count again
    discussion.suspension_changed(store, user.id)  # so do their comments
    if suspended:
        end_all_sessions(store, user.id)
    return _user(store, user.id) or user


def set_profile(store: Store, user: User, *, fullname: str | None, upvotes_public: bool) -> User:
    _update(
        store,
        user.id,
        fullname=(fullname or "").strip()[:200] or None,
        upvotes_public=upvotes_public,
    )
    return _user(store, user.id) or user


# The other parts of the export (upvotes, submissions, claims, linked identities, comments,
# notifications, collections, alerts) register themselves on import; at the end, as they
# import this module's register_export.
from dailypapers.alerts import service as _alerts_export  # noqa: E402, F401
from dailypapers.community import export as _community_export  # noqa: E402, F401
from dailypapers.discussion import collections as _collections  # noqa: E402, F401
from dailypapers.discussion import export as _discussion_export  # noqa: E402, F401
from dailypapers.discussion import notifications as _notifications  # noqa: E402, F401
