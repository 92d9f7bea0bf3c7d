"""What the web pages, the API, the CLI and other packages call to manage accounts.

Users: :func:`create_user`, :func:`find_user`, :func:`user_by_id`, :func:`user_by_email`,
:func:`authenticate` (by user name or email and password; rehashes a hash made with old
parameters). Sessions: :func:`start_session` gives the token for the cookie,
:func:`resolve_session` turns it back into a user (rotating it when the role changed),
:func:`end_session` / :func:`end_all_sessions`. API tokens: :func:`create_token` (the token is
returned once), :func:`resolve_bearer`, :func:`revoke_token`, :func:`list_tokens`.

Tokens are 256 random bits; the store keeps only their SHA-256, so a copy of the database
signs nobody in. Times are naive UTC, as elsewhere in the store.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dailypapers.accounts.models import ROLES, SCOPES, AccountError, User
from dailypapers.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import comments as comment_rows
from dailypapers.store import sessions as session_rows
from dailypapers.store import submissions as submission_rows
from dailypapers.store import tokens as token_rows
from dailypapers.store import users as user_rows
from dailypapers.store import votes as vote_rows

USERNAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,37}[A-Za-z0-9])?")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"[^@\s<>\"',;]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")
TOKEN_PREFIX = "dp_"
# A token's last use is written at most this often: API reads must not all be writes.
TOKEN_TOUCH_EVERY = timedelta(minutes=10)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) the store keeps of a session or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def username_problem(username: str) -> str | None:
    if not USERNAME_RE.fullmatch(username):
        return (
            "a user name has 1 to 39 letters, digits, '-', '_' or '.', "
            "and starts and ends with a letter or digit"
        )
    return None


def email_problem(email: str) -> str | None:
    if len(email) > 254 or not EMAIL_RE.fullmatch(email):
        return "that does not look like an email address"
    return None


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")


def create_user(
    store: Store,
    settings: Settings,
    username: str,
    email: str | None,
    *,
    password: str | None = None,
    fullname: str | None = None,
    role: str = "user",
    confirmed: bool = False,
) -> User:
    """A new user; :class:`AccountError` when a rule refuses it or the name/email is taken.

    ``password`` None makes an account that signs in only through GitHub or ORCID.
    """
    username = username.strip()
    email = email.strip() if email else None
    problem = username_problem(username) or (email_problem(email) if email else None)
    if password is not None:
        problem = problem or password_problem(password, username=username, email=email)
    if problem:
        raise AccountError(problem)
    _check_role(role)
    password_hash = hash_password(password, settings) if password is not None else None
    now = utcnow()
    try:
        with store.write() as connection:
            user_id = user_rows.insert_user(
                connection,
                username=username,
                email=email,
                password_hash=password_hash,
                role=role,
                created_at=now,
                fullname=fullname,
                email_confirmed_at=now if confirmed else None,
            )
            row = user_rows.user_by_id(connection, user_id)
    except user_rows.DuplicateUser as taken:
        raise AccountError(f"that {taken.field} is taken", field=taken.field) from None
    assert row is not None
    return User.from_row(row)


def user_by_id(store: Store, user_id: int) -> User | None:
    with store.read() as connection:
        row = user_rows.user_by_id(connection, user_id)
    return User.from_row(row) if row else None


def find_user(store: Store, username: str) -> User | None:
    """The user named ``username`` (any case), or None."""
    with store.read() as connection:
        row = user_rows.user_by_name(connection, username)
    return User.from_row(row) if row else None


def user_by_email(store: Store, email: str) -> User | None:
    with store.read() as connection:
        row = user_rows.user_by_email(connection, email)
    return User.from_row(row) if row else None


def users_by_ids(store: Store, ids: list[int]) -> dict[int, User]:
    with store.read() as connection:
        rows = user_rows.users_by_ids(connection, ids)
    return {row["id"]: User.from_row(row) for row in rows}


def list_users(store: Store, *, limit: int = 1000, offset: int = 0) -> list[User]:
    with store.read() as connection:
        rows = user_rows.list_users(connection, limit=limit, offset=offset)
    return [User.from_row(row) for row in rows]


def authenticate(store: Store, settings: Settings, login: str, password: str) -> User | None:
    """The user whose name or email is ``login`` and whose password this is, else None.

    An unknown login verifies a dummy hash, so both failures take the same time. A
    suspended user is refused like a wrong password. A hash made with other parameters than
    the configured ones is replaced by a new one.
    """
    login = login.strip()
    with store.read() as connection:
        row = (
            user_rows.user_by_email(connection, login)
            if "@" in login
            else user_rows.user_by_name(connection, login)
        )
    user = User.from_row(row) if row else None
    if not verify_password(user.password_hash if user else None, password, settings):
        return None
    assert user is not None and user.password_hash is not None
    if needs_rehash(user.password_hash, settings):
        set_password_hash(store, user.id, hash_password(password, settings))
    return None if user.suspended else user


def delete_user(store: Store, user_id: int) -> bool:
    """Delete the account; its sessions, tokens and what hangs off it go too. In the same
    transaction the papers it upvoted are counted again (the vote rows go by cascade, the
    papers' counts would keep them), and those it submitted lose its name. Its comments
    become placeholders, their text gone (replies of others stay in place)."""
    with store.write() as connection:
        voted = [paper_id for paper_id, _at in vote_rows.votes_of_user(connection, user_id)]
        comment_rows.forget_user(connection, user_id, datetime.now(UTC).replace(tzinfo=None))
        submission_rows.forget_submitter(connection, user_id)
        deleted = user_rows.delete_user(connection, user_id)
        vote_rows.recount(connection, voted)
        return deleted


def set_password_hash(store: Store, user_id: int, password_hash: str) -> None:
    with store.write() as connection:
        user_rows.update_user(connection, user_id, {"password_hash": password_hash})


# Sessions


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A resolved session: its user, its row id, and a new token when it was rotated."""

    user: User
    session_id: int
    rotated_token: str | None = None


def start_session(
    store: Store, settings: Settings, user: User, *, user_agent: str | None = None
) -> str:
    """A new session for ``user``; the token to put in the cookie (kept only hashed)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with store.write() as connection:
        session_rows.delete_expired(connection, now, user_id=user.id)
        session_rows.insert_session(
            connection,
            user_id=user.id,
            token_hash=token_hash(token),
            role=user.role,
            created_at=now,
            expires_at=now + timedelta(days=settings.session_days),
            user_agent=(user_agent or "")[:300] or None,
        )
    return token


def resolve_session(store: Store, token: str) -> SignedIn | None:
    """The signed-in user of a session token; None when unknown, expired or suspended.

    When the user's role changed since the session began, the session gets a new token
    (``rotated_token``, for the cookie) and the old one stops working.
    """
    if not token or len(token) > 200:
        return None
    with store.read() as connection:
        found = session_rows.session_with_user(connection, token_hash(token), utcnow())
    if found is None:
        return None
    session, row = found
    user = User.from_row(row)
    if user.suspended:
        return None
    if session["role"] == user.role:
        return SignedIn(user, session["id"])
    fresh = secrets.token_urlsafe(32)
    with store.write() as connection:
        if not session_rows.replace_token(connection, session["id"], token_hash(fresh), user.role):
            return None
    return SignedIn(user, session["id"], fresh)


SESSIONS_PER_QUERY = 500  # tokens looked up together by still_signed_in


def still_signed_in(store: Store, tokens: list[str]) -> dict[str, User]:
    """The users of those session ``tokens`` that :func:`resolve_session` would resolve as
    they are (unexpired, not suspended, the role they began with), read together: a session
    whose token it would rotate is not among them."""
    hashes = {token_hash(token): token for token in tokens if token and len(token) <= 200}
    found: dict[str, User] = {}
    now = utcnow()
    batch = list(hashes)
    for start in range(0, len(batch), SESSIONS_PER_QUERY):
        with store.read() as connection:
            rows = session_rows.sessions_with_users(
                connection, batch[start : start + SESSIONS_PER_QUERY], now
            )
        for hashed, (session, row) in rows.items():
            user = User.from_row(row)
            if not user.suspended and session["role"] == user.role:
                found[hashes[hashed]] = user
    return found


def end_session(store: Store, token: str) -> None:
    with store.write() as connection:
        session_rows.delete_session(connection, token_hash(token))


def end_all_sessions(store: Store, user_id: int, *, keep_token: str | None = None) -> int:
    """End every session of the user (but ``keep_token``'s); how many ended."""
    keep = token_hash(keep_token) if keep_token else None
    with store.write() as connection:
        return session_rows.delete_user_sessions(connection, user_id, keep_hash=keep)


# API tokens


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class BearerUser:
    """A resolved API token: its user and scope."""

    user: User
    scope: str
    token_id: int

    @property
    def can_write(self) -> bool:
        return self.scope == "write"


def create_token(store: Store, user: User, name: str, scope: str = "read") -> tuple[str, ApiToken]:
    """A new API token of ``user``: (the token, shown once; its stored description)."""
    if scope not in SCOPES:
        raise AccountError(f"scope must be one of {', '.join(SCOPES)}")
    name = name.strip()[:100] or "token"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with store.write() as connection:
        token_id = token_rows.insert_token(
            connection,
            user_id=user.id,
            name=name,
            token_hash=token_hash(token),
            prefix=token[:10],
            scope=scope,
            created_at=now,
        )
    return token, ApiToken(token_id, name, token[:10], scope, now, None)


def resolve_bearer(store: Store, token: str) -> BearerUser | None:
    """The user and scope of an API token; None when unknown, revoked or suspended."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with store.read() as connection:
        found = token_rows.token_with_user(connection, token_hash(token))
    if found is None:
        return None
    stored, row = found
    user = User.from_row(row)
    if user.suspended:
        return None
    now = utcnow()
    last = stored["last_used_at"]
    if last is None or now - last > TOKEN_TOUCH_EVERY:
        with store.write() as connection:
            token_rows.touch_token(connection, stored["id"], now)
    return BearerUser(user, stored["scope"], stored["id"])


def list_tokens(store: Store, user_id: int) -> list[ApiToken]:
    with store.read() as connection:
        rows = token_rows.user_tokens(connection, user_id)
    return [
        ApiToken(r["id"], r["name"], r["prefix"], r["scope"], r["created_at"], r["last_used_at"])
        for r in rows
    ]


def revoke_token(store: Store, user_id: int, token_id: int) -> bool:
    with store.write() as connection:
        return token_rows.delete_token(connection, user_id, token_id)
