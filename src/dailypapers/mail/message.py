"""Build standard mail: ``email.message.EmailMessage`` as mail clients and spam filters expect.

A plain-text body, optionally an HTML alternative (``multipart/alternative``), ``From``,
``To``, ``Subject``, ``Date`` and a ``Message-ID`` in the site's domain. Non-ASCII names
and subjects are encoded by the ``email`` package (RFC 2047 words); bodies are UTF-8, sent
quoted-printable or base64 as it chooses, with lines short enough for SMTP. Callers that
need more (``List-Unsubscribe``, ``List-Id``, a deterministic Message-ID for an outbox) pass
``headers`` and ``message_id``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from dailypapers.settings import Settings

SITE_NAME = "Daily Papers"
_ADDRESS_HEADERS = ("from", "to", "cc", "bcc", "reply-to", "sender")
# Header values are one line: a newline in one would start a header of the caller's choosing.
_LINE_BREAK = re.compile(r"[\r\n]")
_LINK = re.compile(r"https?://[^\s<>\"')\]]+")


def parse_address(text: str) -> Address:
    """One mail address, optionally with a display name: ``Ada <ada@example.org>``.

    ``ValueError`` (saying why) when it is not exactly one well-formed address.
    """
    if _LINE_BREAK.search(text):
        raise ValueError("a mail address cannot contain a line break")
    try:
        header = default.header_factory("To", text)
    except (HeaderParseError, IndexError, ValueError):
        raise ValueError(f"not a well-formed mail address: {text!r}") from None
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if len(addresses) != 1 or header.defects or not addresses[0].domain:
        raise ValueError(f"expected one mail address such as papers@example.org, got {text!r}")
    address: Address = addresses[0]
    if not address.username or any(c.isspace() for c in address.addr_spec):
        raise ValueError(f"expected one mail address such as papers@example.org, got {text!r}")
    return address


def site_domain(settings: Settings) -> str:
    """The domain the site's mail speaks for: SITE_URL's host, else From's, else localhost."""
    if settings.site_url:
        host = urlsplit(settings.site_url).hostname
        if host:
            return host
    if settings.mail_from:
        return parse_address(settings.mail_from).domain
    return "localhost"


def sender_address(settings: Settings) -> Address:
    """The From address: ``DAILYPAPERS_MAIL_FROM`` or ``Daily Papers <noreply@DOMAIN>``."""
    if settings.mail_from:
        return parse_address(settings.mail_from)
    return Address(display_name=SITE_NAME, username="noreply", domain=site_domain(settings))


def first_link(message: EmailMessage) -> str | None:
    """The first http(s) link of the plain-text part (what the development log shows)."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return None
    found = _LINK.search(body.get_content())
    return found.group(0) if found else None


def _one_line(name: str, value: str) -> str:
    if _LINE_BREAK.search(value):
        raise ValueError(f"the {name} header cannot contain a line break")
    return value


def _transfer_encoding(body: str) -> str:
    # Quoted-printable keeps non-ASCII bodies 7-bit clean: no relay rewrites them (which
    # would break a DKIM signature) and servers without 8BITMIME take them.
    return (
        "7bit"
        if body.isascii() and all(len(line) <= 998 for line in body.splitlines())
        else "quoted-printable"
    )


def build_message(
    settings: Settings,
    *,
    to: str | Address,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A complete message from the site to one recipient.

    ``to`` is an address string (``"Ada Lovelace <ada@example.org>"``) or an ``Address``;
    ``message_id`` (``"<id@domain>"``) replaces the generated one; ``headers`` are added as
    given (e.g. ``List-Unsubscribe``). ``ValueError`` for a malformed address or a header
    value with a line break.
    """
    message = EmailMessage()
    message["From"] = sender_address(settings)
    message["To"] = to if isinstance(to, Address) else parse_address(to)
    message["Subject"] = _one_line("Subject", subject)
    message["Date"] = format_datetime(datetime.now(UTC), usegmt=True)
    message["Message-ID"] = _one_line(
        "Message-ID", message_id or make_msgid(domain=site_domain(settings))
    )
    for name, value in (headers or {}).items():
        if name.lower() in _ADDRESS_HEADERS:
            message[name] = parse_address(value)
        else:
            message[name] = _one_line(name, value)
    message.set_content(text, cte=_transfer_encoding(text))
    if html is not None:
        message.add_alternative(html, subtype="html", cte=_transfer_encoding(html))
    return message
