"""What makes a digest a well-behaved list mail: List-Id, one-click unsubscribe (RFC 8058),
and a Message-ID fixed per delivery.

``List-Unsubscribe`` carries the https link (a POST to it with
``List-Unsubscribe=One-Click`` unsubscribes, no log-in) and a ``mailto:`` to the sender's
address with the link's token in the subject, for clients that only mail. The Message-ID
is derived from the edition and the subscription (an HMAC, so it tells nothing about the
subscriber): a delivery sent again after a crash carries the same id, which receiving
servers and clients use to drop the duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from dailypapers.digest.edition import Edition
from dailypapers.digest.links import unsubscribe_token
from dailypapers.mail import sender_address, site_domain
from dailypapers.settings import Settings


def unsubscribe_url(settings: Settings, base: str, subscription_id: int, email_key: str) -> str:
    return f"{base}/unsubscribe?token={unsubscribe_token(settings, subscription_id, email_key)}"


def list_id(settings: Settings, edition: Edition) -> str:
    return f"Daily Papers {edition.kind} digest <{edition.kind}.digest.{site_domain(settings)}>"


def unsubscribe_mailto(settings: Settings, url: str) -> str:
    """The ``mailto:`` of ``List-Unsubscribe``: the From address, the link's token as subject."""
    token = url.split("token=", 1)[1]
    return f"mailto:{sender_address(settings).addr_spec}?subject={quote('unsubscribe ' + token)}"


def list_headers(
    settings: Settings, edition: Edition, subscription_id: int, email_key: str, url: str
) -> dict[str, str]:
    return {
        "List-Id": list_id(settings, edition),
        "List-Unsubscribe": f"<{url}>, <{unsubscribe_mailto(settings, url)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "list",
        "Auto-Submitted": "auto-generated",
    }


def delivery_message_id(settings: Settings, edition: Edition, subscription_id: int) -> str:
    mac = hmac.new(
        settings.secret_key.encode(), f"{edition.name}:{subscription_id}".encode(), hashlib.sha256
    ).hexdigest()[:20]
    return f"<digest.{edition.kind}.{edition.key}.{mac}@{site_domain(settings)}>"
