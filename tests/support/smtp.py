"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives.

``start_smtp()`` serves plain SMTP, STARTTLS (``tls="starttls"``) or TLS from the start
(``tls="smtps"``) with a certificate made for the test by trustme (its CA file is
``server.ca_file``), and with ``credentials=(user, password)`` requires AUTH LOGIN or PLAIN
with them. ``server.refuse[address] = "550 5.1.1 No such user"`` makes it refuse a
recipient. Tests read ``server.messages`` (parsed ``EmailMessage`` objects),
``server.wait_for(n)`` (the same, once n have arrived) or ``server.received`` (with the
envelope). The ``mail_server`` fixture (tests/conftest.py) starts a plain one and points
``DAILYPAPERS_SMTP_URL`` at it.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.support.server import free_port

Tls = Literal["plain", "starttls", "smtps"]


@dataclass
class Received:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class SmtpServer:
    host: str
    port: int
    tls: Tls
    ca_file: Path | None = None
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    # Recipients the server refuses, with its reply (e.g. "550 5.1.1 No such user").
    refuse: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [item.message for item in self.received]

    def wait_for(self, count: int, seconds: float = 10.0) -> list[EmailMessage]:
        """The messages once at least ``count`` have arrived (mail a page sends after its
        answer, as a background task, may land a moment after the page shows); bounded."""
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        messages = self.messages
        assert len(messages) >= count, f"{len(messages)} of {count} messages in {seconds:g} s"
        return messages

    def url(self, user: str | None = None, password: str | None = None) -> str:
        """The ``DAILYPAPERS_SMTP_URL`` for this server (``user``/``password`` as given)."""
        scheme = "smtps" if self.tls == "smtps" else "smtp"
        auth = f"{user}:{password}@" if user is not None else ""
        return f"{scheme}://{auth}{self.host}:{self.port}"


class _Collector:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, smtp: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        reply = self.server.refuse.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        item = Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, raw)
        with self.server._lock:
            self.server.received.append(item)
        return "250 Message accepted for delivery"


def _authenticator(server: SmtpServer, user: str, password: str) -> Any:
    def check(smtp: Any, session: Session, envelope: Envelope, mechanism: str, data: Any):
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == user
            and data.password.decode() == password
        )
        if ok:
            server.logins.append(f"{mechanism}:{user}")
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def start_smtp(
    tls: Tls = "plain",
    credentials: tuple[str, str] | None = None,
    tmp_dir: Path | None = None,
    mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
) -> Iterator[SmtpServer]:
    """Serve SMTP on 127.0.0.1 until the block ends."""
    server = SmtpServer("127.0.0.1", free_port(), tls)
    kwargs: dict[str, Any] = {"enable_SMTPUTF8": True}
    context: ssl.SSLContext | None = None
    if tls != "plain":
        authority = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        if tmp_dir is None:
            raise ValueError("a TLS server needs tmp_dir for its CA file")
        server.ca_file = tmp_dir / "smtp-test-ca.pem"
        authority.cert_pem.write_to_path(str(server.ca_file))
    if tls == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    if credentials is not None:
        kwargs.update(
            authenticator=_authenticator(server, *credentials),
            auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
            # AUTH only after STARTTLS on a STARTTLS server. aiosmtpd does not see that an
            # SMTPS connection is encrypted from the start and would refuse AUTH there, so
            # SMTPS offers AUTH without requiring it (tests check ``logins``).
            auth_required=tls != "smtps",
            auth_require_tls=tls == "starttls",
        )
    controller = Controller(
        _Collector(server),
        hostname=server.host,
        port=server.port,
        ssl_context=context if tls == "smtps" else None,
        **kwargs,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
