"""Signed links of subscription mail (itsdangerous): confirm a subscription, unsubscribe.

A confirmation link carries the subscription's id, its address key and the choices made
(frequency, categories), so confirming applies what the owner asked for in that mail, and a
link for a row that was forgotten and made again for another address does nothing. It
expires with the unconfirmed row (7 days). An unsubscribe link never expires (old digests
must keep working) and names the row by id and address key: once the row is gone it is a
no-op, and a new subscription of the same address gets a new id.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from dailypapers.settings import Settings

CONFIRM_MAX_AGE = 7 * 86400
MAX_TOKEN = 2000


class LinkError(ValueError):
    """A link that is forged, damaged or expired; the message says which."""


def confirm_token(settings: Settings, payload: dict[str, Any]) -> str:
    return URLSafeTimedSerializer(settings.secret_key, salt="dailypapers-subscribe").dumps(payload)


def read_confirm_token(settings: Settings, token: str) -> dict[str, Any]:
    serializer = URLSafeTimedSerializer(settings.secret_key, salt="dailypapers-subscribe")
    try:
        payload = serializer.loads(token[:MAX_TOKEN], max_age=CONFIRM_MAX_AGE)
    except SignatureExpired:
        raise LinkError("this link has expired; subscribe again") from None
    except BadSignature:
        raise LinkError("this link is not valid (copy the whole link from the mail)") from None
    return _dict(payload)


def unsubscribe_token(settings: Settings, subscription_id: int, email_key: str) -> str:
    serializer = URLSafeSerializer(settings.secret_key, salt="dailypapers-unsubscribe")
    return serializer.dumps({"s": subscription_id, "e": email_key})


def read_unsubscribe_token(settings: Settings, token: str) -> dict[str, Any]:
    serializer = URLSafeSerializer(settings.secret_key, salt="dailypapers-unsubscribe")
    try:
        return _dict(serializer.loads(token[:MAX_TOKEN]))
    except BadSignature:
        raise LinkError("this link is not valid (copy the whole link from the mail)") from None


def _dict(payload: object) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise LinkError("this link is not valid")
    return payload


def site_base(settings: Settings, fallback: str) -> str:
    """The address links in mail start with: DAILYPAPERS_SITE_URL, else ``fallback``."""
    return (settings.site_url or fallback).rstrip("/")
