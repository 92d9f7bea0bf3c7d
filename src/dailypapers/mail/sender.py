"""The one mail sender: SMTP (``DAILYPAPERS_SMTP_URL``) or, in development, ``.eml`` files.

``send_mail(message)`` sends one message; ``open_sender()`` gives a sender that keeps its
SMTP connection for many messages (``with open_sender() as sender: sender.send(...)``), as
a digest run wants. Without an SMTP URL in development mode each message is written to
``DATA_DIR/mail/`` (a temporary file renamed into place, so a reader never sees half a
mail) and its first link is logged; in production without one, sending is a ``MailError``.

TLS always verifies the server's certificate (against ``DAILYPAPERS_SMTP_CA_FILE`` when
set, else the system's authorities). ``smtp://`` requires STARTTLS, except to a loopback
host or with ``DAILYPAPERS_SMTP_ALLOW_PLAIN``, where it is used when offered.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from dailypapers.mail.errors import MailError
from dailypapers.mail.message import first_link
from dailypapers.mail.smtp_url import SmtpTarget, parse_smtp_url
from dailypapers.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentMail:
    """What became of a message: its Message-ID, and the file it went to in development."""

    message_id: str
    recipients: tuple[str, ...]
    eml_path: Path | None = None


class Sender(Protocol):
    """Sends messages; a context manager that releases its connection on the way out."""

    def send(self, message: EmailMessage) -> SentMail: ...

    def send_bytes(self, data: bytes, *, sender: str, recipients: tuple[str, ...]) -> None:
        """Send a message already flattened (CRLF lines), as a digest run assembles them."""

    def close(self) -> None: ...

    def __enter__(self) -> Sender: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...


def _recipients(message: EmailMessage) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        for header in message.get_all(name, []):
            found.extend(address.addr_spec for address in header.addresses)
    if not found:
        raise MailError("the message has no recipient", temporary=False)
    return tuple(found)


class _Base:
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release by default."""


class EmlSender(_Base):
    """Development: each message becomes ``DIR/<time>-<random>.eml``, its first link logged."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> SentMail:
        recipients = _recipients(message)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{secrets.token_hex(4)}.eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_atomically(path, message.as_bytes(policy=SMTP))
        except OSError as error:
            raise MailError(f"could not write {path}: {error.strerror}", temporary=False) from None
        link = first_link(message)
        log.warning(
            "mail to %s written to %s%s",
            ", ".join(recipients),
            path,
            f"; its link: {link}" if link else "",
        )
        return SentMail(str(message["Message-ID"]), recipients, path)

    def send_bytes(self, data: bytes, *, sender: str, recipients: tuple[str, ...]) -> None:
        parsed = message_from_bytes(data, policy=default)
        assert isinstance(parsed, EmailMessage)  # the policy's message_factory
        self.send(parsed)


def _write_atomically(path: Path, data: bytes) -> None:
    # Links in mail sign people in: the files are readable by their owner only (mkstemp).
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class UnconfiguredSender(_Base):
    """Production without ``DAILYPAPERS_SMTP_URL``: every send says what to set."""

    def send(self, message: EmailMessage) -> SentMail:
        raise MailError("no mail server is configured: set DAILYPAPERS_SMTP_URL", temporary=False)

    def send_bytes(self, data: bytes, *, sender: str, recipients: tuple[str, ...]) -> None:
        raise MailError("no mail server is configured: set DAILYPAPERS_SMTP_URL", temporary=False)


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying client context, trusting ``ca_file`` instead of the system when given."""
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as error:
        raise MailError(
            f"cannot read DAILYPAPERS_SMTP_CA_FILE {ca_file}: {error}", temporary=False
        ) from None


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _describe(error: BaseException, target: SmtpTarget) -> MailError:
    """The SMTP or network failure as one MailError (temporary or not, with its code)."""
    where = target.address
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        whom = ", ".join(error.recipients)
        message = f"mail server {where} refused {whom}: {code} {_reply_text(reply)}"
        return MailError(message, temporary=400 <= code < 500, code=code)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        message = (
            f"mail server {where} refused the login of {target.username!r}: "
            f"{error.smtp_code} {_reply_text(error.smtp_error)}"
        )
        return MailError(message, temporary=False, code=error.smtp_code)
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        message = f"mail server {where} answered {code} {_reply_text(error.smtp_error)}"
        return MailError(message, temporary=not 500 <= code < 600, code=code)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return MailError(f"mail server {where}: {error}", temporary=False)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return MailError(f"mail server {where} closed the connection", temporary=True)
    if isinstance(error, ssl.SSLCertVerificationError):
        message = (
            f"mail server {where}: its TLS certificate is not trusted ({error.verify_message}; "
            "a private or self-signed certificate needs DAILYPAPERS_SMTP_CA_FILE)"
        )
        return MailError(message, temporary=False)
    if isinstance(error, ssl.SSLError):
        return MailError(f"TLS with mail server {where} failed: {error.reason}", temporary=False)
    if isinstance(error, TimeoutError):
        return MailError(f"mail server {where} did not answer in time", temporary=True)
    if isinstance(error, OSError):
        reason = error.strerror or str(error) or type(error).__name__
        return MailError(f"could not reach mail server {where}: {reason}", temporary=True)
    return MailError(f"mail server {where}: {error}", temporary=True)


_FAILURES = (smtplib.SMTPException, OSError)  # ssl.SSLError is an OSError


def _login(client: smtplib.SMTP, target: SmtpTarget) -> None:
    """AUTH PLAIN, else LOGIN, once: a refused password is one clear error, not a retry
    through every mechanism (``smtplib.login`` tries them all, and servers slow down)."""
    client.user, client.password = target.username or "", target.password or ""
    offered = client.esmtp_features.get("auth", "").upper().split()
    for name, answer in (("PLAIN", client.auth_plain), ("LOGIN", client.auth_login)):
        if name in offered:
            client.auth(name, answer)
            return
    raise MailError(
        f"mail server {target.address} offers no AUTH PLAIN or LOGIN "
        f"(it offers: {' '.join(offered) or 'no AUTH'})",
        temporary=False,
    )


class SmtpSender(_Base):
    """Sends over one SMTP connection, opened at the first message and kept until closed."""

    def __init__(
        self,
        target: SmtpTarget,
        *,
        allow_plain: bool = False,
        ca_file: Path | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        self.target = target
        self.allow_plain = allow_plain or target.is_loopback
        self.ca_file = ca_file
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._client: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> SentMail:
        recipients = _recipients(message)
        try:
            client = self._client or self._connect()
            client.send_message(message, to_addrs=list(recipients))
        except MailError:
            self.close()
            raise
        except _FAILURES as error:
            self.close()  # a failed exchange leaves the connection in an unknown state
            raise _describe(error, self.target) from None
        return SentMail(str(message["Message-ID"]), recipients)

    def send_bytes(self, data: bytes, *, sender: str, recipients: tuple[str, ...]) -> None:
        """``sendmail`` of ``data`` as it is: no parsing, folding or encoding again."""
        options = () if all(r.isascii() for r in recipients) else ("SMTPUTF8",)
        try:
            client = self._client or self._connect()
            client.sendmail(sender, list(recipients), data, mail_options=options)
        except MailError:
            self.close()
            raise
        except _FAILURES as error:
            self.close()
            raise _describe(error, self.target) from None

    def _connect(self) -> smtplib.SMTP:
        target, context = self.target, tls_context(self.ca_file)
        client: smtplib.SMTP
        if target.security == "tls":
            client = smtplib.SMTP_SSL(
                target.host,
                target.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=context,
            )
        else:
            client = smtplib.SMTP(
                target.host, target.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        self._client = client
        client.ehlo()
        if target.security == "starttls":
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif not self.allow_plain:
                raise MailError(
                    f"mail server {target.address} offers no STARTTLS; use smtps:// or set "
                    "DAILYPAPERS_SMTP_ALLOW_PLAIN=true to send in plain text",
                    temporary=False,
                )
        if target.username:
            _login(client, target)
        return client

    def close(self) -> None:
        """Say QUIT and close; a connection already gone is simply dropped."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except _FAILURES:
            client.close()


def open_sender(settings: Settings | None = None) -> Sender:
    """The sender the settings ask for (SMTP, ``.eml`` files in development, or none)."""
    settings = settings or get_settings()
    if settings.smtp_url:
        return SmtpSender(
            parse_smtp_url(settings.smtp_url),
            allow_plain=settings.smtp_allow_plain,
            ca_file=settings.smtp_ca_file,
            timeout=settings.smtp_timeout,
        )
    if settings.mode == "development":
        return EmlSender(settings.data_dir / "mail")
    return UnconfiguredSender()


def send_mail(message: EmailMessage, settings: Settings | None = None) -> SentMail:
    """Send one message through the configured sender; ``MailError`` if it cannot."""
    with open_sender(settings) as sender:
        return sender.send(message)
