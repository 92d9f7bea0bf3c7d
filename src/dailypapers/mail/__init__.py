"""The site's one mail sender (accounts' confirmation and reset mail, the email digests).

``build_message(settings, to=..., subject=..., text=..., html=...)`` makes a standard
message; ``send_mail(message)`` sends it over ``DAILYPAPERS_SMTP_URL``, or writes it to
``DATA_DIR/mail/`` in development; failures are one ``MailError`` with a one-line message.
"""

from dailypapers.mail.errors import MailError
from dailypapers.mail.message import build_message, parse_address, sender_address, site_domain
from dailypapers.mail.sender import SentMail, open_sender, send_mail

__all__ = [
    "MailError",
    "SentMail",
    "build_message",
    "open_sender",
    "parse_address",
    "send_mail",
    "sender_address",
    "site_domain",
]
