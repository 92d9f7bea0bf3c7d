"""Passwords: argon2id hashes (argon2-cffi), the rules a new password must meet, and a
verification that takes as long for an unknown account as for a wrong password.

The hash parameters are settings (``DAILYPAPERS_PASSWORD_TIME_COST``, ``..._MEMORY_KIB``);
:func:`needs_rehash` tells a sign-in to store a new hash when a stored one was made with
others. The common-password list is Django's ``common-passwords.txt.gz`` (20,000 passwords
from Royce Williams' list of breached passwords, shipped in the PyPI package Django 5.2.8
under the BSD 3-clause licence), copied unchanged into this package.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dailypapers.settings import Settings

MIN_LENGTH = 10
MAX_LENGTH = 1024  # hashing a megabyte of "password" is a denial of service, not a password
COMMON_PASSWORDS = Path(__file__).parent / "common-passwords.txt.gz"


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID)


def hasher(settings: Settings) -> PasswordHasher:
    """The argon2id hasher with the configured parameters."""
    return _hasher(settings.password_time_cost, settings.password_memory_kib)


@lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    return _hasher(time_cost, memory_kib).hash("no account has this password")


def hash_password(password: str, settings: Settings) -> str:
    return hasher(settings).hash(password)


def verify_password(stored_hash: str | None, password: str, settings: Settings) -> bool:
    """Whether ``password`` matches ``stored_hash``.

    With no hash (no such account, or one that signs in only through GitHub or ORCID) a
    dummy hash is verified instead, so the answer takes the same time either way.
    """
    dummy = _dummy_hash(settings.password_time_cost, settings.password_memory_kib)
    candidate = stored_hash or dummy
    try:
        matched = hasher(settings).verify(candidate, password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None


def needs_rehash(stored_hash: str, settings: Settings) -> bool:
    try:
        return hasher(settings).check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(password: str, *, username: str = "", email: str | None = None) -> str | None:
    """Why ``password`` may not be used, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password must have at most {MAX_LENGTH} characters"
    lowered = password.lower()
    if lowered in common_passwords():
        return "this password is in a list of common passwords; choose another"
    if username and lowered == username.lower():
        return "the password must not be the user name"
    if email and lowered in (email.lower(), email.lower().split("@")[0]):
        return "the password must not be the email address"
    return None
