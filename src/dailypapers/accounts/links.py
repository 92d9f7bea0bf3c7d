"""Signed, expiring links in account mail (itsdangerous): confirm an email address, reset a
password, confirm a new address.

Each kind has its own salt, so a link of one kind never works as another. A reset link
carries a fingerprint of the password hash it was made for: once the password changes the
link stops working (a reset link is good for one use). A confirmation link carries the
address it confirms, so a link for an address the account no longer has does nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dailypapers.accounts.models import AccountError
from dailypapers.settings import Settings

Kind = Literal["confirm", "reset", "change-email"]
MAX_AGE: dict[Kind, int] = {"confirm": 3 * 86400, "reset": 3600, "change-email": 86400}
PATHS: dict[Kind, str] = {
    "confirm": "/confirm",
    "reset": "/password/reset",
    "change-email": "/settings/email/confirm",
}


def _serializer(settings: Settings, kind: Kind) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=f"dailypapers-{kind}")


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def make_token(settings: Settings, kind: Kind, payload: dict[str, Any]) -> str:
    return _serializer(settings, kind).dumps(payload)


def read_token(settings: Settings, kind: Kind, token: str) -> dict[str, Any]:
    """The payload of a link's token; :class:`AccountError` when forged or expired."""
    try:
        payload = _serializer(settings, kind).loads(token[:2000], max_age=MAX_AGE[kind])
    except SignatureExpired:
        raise AccountError("this link has expired; ask for a new one") from None
    except BadSignature:
        raise AccountError("this link is not valid (copy the whole link from the mail)") from None
    if not isinstance(payload, dict):
        raise AccountError("this link is not valid")
    return payload


def link(base_url: str, settings: Settings, kind: Kind, payload: dict[str, Any]) -> str:
    """The full address of a signed link of ``kind``."""
    return f"{base_url.rstrip('/')}{PATHS[kind]}?token={make_token(settings, kind, payload)}"
