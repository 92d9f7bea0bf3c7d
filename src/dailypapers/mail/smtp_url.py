"""Parse ``DAILYPAPERS_SMTP_URL`` into where and how to connect.

``smtp://user:pass@host:587`` asks for STARTTLS, ``smtps://user:pass@host:465`` for TLS from
the first byte; the user and password are percent-decoded (``%40`` for ``@``). A malformed
URL is a ``ValueError`` naming the problem, which the settings turn into a start-up error.
The URL's password never appears in a message or ``repr``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

Security = Literal["starttls", "tls"]

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


@dataclass(frozen=True)
class SmtpTarget:
    """A mail server to connect to, as the URL says."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        """``host:port``, for messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """Whether mail to this server never leaves the machine."""
        if self.host.lower() in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None


def parse_smtp_url(url: str) -> SmtpTarget:
    """The server an ``smtp://`` or ``smtps://`` URL names; ``ValueError`` if malformed."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(
            "must start with smtp:// (STARTTLS) or smtps:// (TLS), "
            "e.g. smtp://user:password@mail.example.org:587"
        )
    if not parts.hostname:
        raise ValueError("names no host, e.g. smtp://user:password@mail.example.org:587")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must be only smtp://user:password@host:port (no path or query)")
    port = _port(url.strip()) or DEFAULT_PORTS[scheme]
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ValueError("has a password but no user name")
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        security="tls" if scheme == "smtps" else "starttls",
        username=username,
        password=password,
    )
