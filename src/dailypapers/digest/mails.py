"""The confirmation mail of a subscription, sent through the site's one mail sender."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any

from dailypapers.digest.dkim import sign
from dailypapers.digest.links import confirm_token
from dailypapers.digest.subscriptions import Subscription
from dailypapers.mail import MailError, build_message, send_mail
from dailypapers.settings import Settings

log = logging.getLogger(__name__)


def confirmation_mail(
    settings: Settings, base: str, subscription: Subscription, payload: dict[str, Any]
) -> EmailMessage:
    link = f"{base}/subscribe/confirm?token={confirm_token(settings, payload)}"
    what = "every weekday" if payload["f"] == "daily" else "once a week"
    categories = ", ".join(payload["c"]) or "all the site's categories"
    text = (
        f"Someone, probably you, asked for the Daily Papers digest ({what}; {categories}) "
        f"at this address.\n\nTo confirm, open this link and press the button:\n\n{link}\n\n"
        "If it was not you, ignore this mail: nothing will be sent, and the address is "
        "forgotten in 7 days.\n"
    )
    return build_message(
        settings, to=subscription.email, subject="Confirm your Daily Papers digest", text=text
    )


def send_signed(message: EmailMessage, settings: Settings) -> None:
    """DKIM-sign (when a key is set) and send; ``MailError`` if it cannot."""
    send_mail(sign(settings, message), settings)


def send_quietly(message: EmailMessage, settings: Settings) -> None:
    """Send after the answer went out: a failure is logged (the visitor was told to check
    their mail whatever happened, so nothing tells whether the address was known)."""
    try:
        send_signed(message, settings)
    except MailError as error:
        log.error("confirmation mail not sent: %s", error)
