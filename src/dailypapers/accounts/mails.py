"""The account mails (confirm an address, reset a password, a sign-up with a known address)
and the one place they are sent from: :func:`send_account_mail`, through the site's mail
sender (:mod:`dailypapers.mail`: SMTP, or ``.eml`` files under ``DATA_DIR/mail`` in
development). A mail that cannot be sent is logged, never shown: whether an address has an
account must not show in an answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dailypapers.mail import MailError, build_message, send_mail
from dailypapers.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountMail:
    to: str
    subject: str
    text: str


def confirm_mail(to: str, username: str, url: str) -> AccountMail:
    return AccountMail(
        to,
        "Confirm your email address",
        f"Hello {username},\n\nconfirm this address for your dailypapers account by opening\n\n"
        f"{url}\n\nThe link works for 3 days. If you did not sign up, ignore this mail.\n",
    )


def change_email_mail(to: str, username: str, url: str) -> AccountMail:
    return AccountMail(
        to,
        "Confirm your new email address",
        f"Hello {username},\n\nto use this address for your dailypapers account, open\n\n"
        f"{url}\n\nThe link works for a day. If you did not ask for this, ignore this mail.\n",
    )


def reset_mail(to: str, username: str, url: str) -> AccountMail:
    return AccountMail(
        to,
        "Reset your password",
        f"Hello {username},\n\nto choose a new password for your dailypapers account, open\n\n"
        f"{url}\n\nThe link works for an hour, once. If you did not ask for it, ignore this "
        "mail: your password stays as it is.\n",
    )


def already_registered_mail(to: str, username: str, reset_url: str) -> AccountMail:
    return AccountMail(
        to,
        "You already have an account",
        f"Hello {username},\n\nsomeone (you?) tried to sign up with this address, which "
        f"already has the dailypapers account {username!r}. Log in with it, or choose a new "
        f"password here:\n\n{reset_url}\n\nIf it was not you, ignore this mail.\n",
    )


def send_account_mail(mail: AccountMail, settings: Settings) -> None:
    """Send ``mail``; a failure is logged (the person sees the same answer either way)."""
    try:
        send_mail(
            build_message(settings, to=mail.to, subject=mail.subject, text=mail.text), settings
        )
    except (MailError, ValueError) as failed:
        log.error("account mail %r to %s not sent: %s", mail.subject, mail.to, failed)
