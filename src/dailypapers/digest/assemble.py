"""Digest mail assembled from bytes: what an edition's subscribers share is built once.

Building every message with the ``email`` package and flattening it with
``smtplib.send_message`` folds every header and encodes both bodies again for each
subscriber, which was most of a digest run's time. Here :func:`shared_parts` renders and
encodes, once per (edition, categories), everything the mails share: the headers (From,
Subject, Reply-To, List-Id, List-Unsubscribe-Post, the MIME headers, folded and
RFC 2047-encoded by the ``email`` package itself) and both bodies, rendered with a marker
where the unsubscribe link goes. :func:`assemble` then only writes the per-subscriber
headers (To, Date, Message-ID, List-Unsubscribe), puts the subscriber's link in place of the
marker and quoted-printable-encodes the bodies with ``binascii`` (C code).

``List-Unsubscribe`` is folded after its comma rather than RFC 2047-encoded (which is what
the ``email`` package does to a header longer than a line, and which RFC 2369 clients do not
decode). A header that is not plain ASCII or does not fit one line (an unusual address) goes
through the ``email`` package as before.
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import lru_cache

from markupsafe import escape

from dailypapers.digest.edition import Edition, for_categories
from dailypapers.digest.render import render_digest
from dailypapers.mail import parse_address, sender_address
from dailypapers.settings import Settings

MARKER = "UNSUBSCRIBE-LINK-8f2d41c7"  # left alone by HTML escaping; replaced per message
MAX_LINE = 78  # RFC 5322's recommended header line length
CRLF = "\r\n"
PER_MESSAGE = ("To", "Date", "Message-ID", "List-Unsubscribe")


@dataclass(frozen=True)
class Body:
    """A body part encoded once, in the pieces between the places of the unsubscribe link.

    Quoted-printable pieces are joined with soft line breaks around the encoded link (they
    vanish when decoded), so the shared pieces never need encoding again."""

    head: bytes  # the part's Content-Type and Content-Transfer-Encoding
    pieces: tuple[bytes, ...]
    quoted: bool

    def with_link(self, link: str) -> bytes:
        if not self.quoted:
            return self.head + link.encode().join(self.pieces) + b"\r\n"
        encoded = binascii.b2a_qp(link.encode() + b"\r\n", istext=True)[:-2]
        joined = (b"=\r\n" + encoded + b"=\r\n").join(self.pieces)
        return self.head + joined + b"\r\n"  # the CRLF before a boundary belongs to it


@dataclass(frozen=True)
class DigestParts:
    """The encoded bytes and rendered bodies every subscriber of one (edition, categories)
    shares; ``text`` and ``html`` are split at the unsubscribe link's places."""

    subject: str
    head: bytes
    text: Body
    html: Body
    boundary: bytes
    shown: int  # papers in the mail (0: the subscriber's categories have none)
    names: tuple[str, ...]  # the headers of a whole message (what DKIM may sign)


def _folded_head(headers: list[tuple[str, str]]) -> bytes:
    """Headers folded and encoded by the ``email`` package (policy SMTP: CRLF lines)."""
    message = EmailMessage(policy=SMTP)
    for name, value in headers:
        message[name] = value
    return message.as_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n"


def _encoded(subtype: str, rendered: str) -> Body:
    body = rendered.replace("\r\n", "\n").replace("\n", CRLF)
    if not body.endswith(CRLF):
        body += CRLF
    # 7bit only when it stays so with any link in it (links are ASCII); else quoted-printable,
    # as ``build_message`` chooses, so no relay rewrites the body under a DKIM signature.
    seven_bit = body.isascii() and all(len(line) <= 900 for line in body.splitlines())
    cte = "7bit" if seven_bit else "quoted-printable"
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
    ).encode()
    pieces = [piece.encode() for piece in body.split(MARKER)]
    if not seven_bit:
        pieces = [binascii.b2a_qp(piece, istext=True) for piece in pieces]
    return Body(head, tuple(pieces), not seven_bit)


def shared_parts(
    settings: Settings, base: str, edition: Edition, categories: tuple[str, ...], list_id: str
) -> DigestParts:
    """Render and encode what the mails of ``edition`` in ``categories`` share."""
    entries = for_categories(edition, categories, settings.digest_papers)
    rendered = render_digest(base, edition, entries, MARKER)
    boundary = f"=_digest_{secrets.token_hex(16)}"
    headers = [
        ("From", str(sender_address(settings))),
        ("Subject", rendered.subject),
        ("List-Id", list_id),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Precedence", "list"),
        ("Auto-Submitted", "auto-generated"),
    ]
    if settings.mail_reply_to:
        headers.append(("Reply-To", str(parse_address(settings.mail_reply_to))))
    headers += [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    return DigestParts(
        subject=rendered.subject,
        head=_folded_head(headers),
        text=_encoded("plain", rendered.text),
        html=_encoded("html", rendered.html),
        boundary=boundary.encode(),
        shown=len(entries),
        names=(*(name for name, _ in headers), *PER_MESSAGE),
    )


def _header(name: str, value: str) -> bytes:
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header cannot contain a line break")
    line = f"{name}: {value}\r\n"
    if value.isascii() and len(line) <= MAX_LINE + 2:
        return line.encode()
    return _folded_head([(name, value)])


def _to_header(to: str) -> bytes:
    if to.isascii() and "<" not in to and '"' not in to and "," not in to:
        return _header("To", to)  # a bare address, as subscribers have
    return _folded_head([("To", str(parse_address(to)))])


def _links_header(url: str, mailto: str) -> bytes:
    value = f"<{url}>, <{mailto}>"
    if "\r" in value or "\n" in value:
        raise ValueError("the List-Unsubscribe header cannot contain a line break")
    if len(value) + len("List-Unsubscribe: ") <= MAX_LINE:
        return f"List-Unsubscribe: {value}\r\n".encode()
    return f"List-Unsubscribe: <{url}>,\r\n <{mailto}>\r\n".encode()


def assemble(
    parts: DigestParts,
    *,
    to: str,
    message_id: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str,
    now: datetime | None = None,
) -> bytes:
    """One subscriber's complete message (CRLF lines), ready for ``sendmail``."""
    when = format_datetime(now or datetime.now(UTC), usegmt=True)
    dash = b"--" + parts.boundary
    return b"".join(
        (
            parts.head,
            _to_header(to),
            _header("Date", when),
            _header("Message-ID", message_id),
            _links_header(unsubscribe_url, unsubscribe_mailto),
            b"\r\n",
            dash,
            b"\r\n",
            parts.text.with_link(unsubscribe_url),
            dash,
            b"\r\n",
            parts.html.with_link(str(escape(unsubscribe_url))),
            dash,
            b"--\r\n",
        )  # fmt: skip
    )


class PartsCache:
    """The shared parts of the few (edition, categories) a run meets, most recent kept."""

    def __init__(
        self, settings: Settings, base: str, edition: Edition, list_id: str, size: int = 256
    ) -> None:
        self.edition = edition
        self.sender = sender_address(settings).addr_spec

        @lru_cache(maxsize=size)
        def build(categories: tuple[str, ...]) -> DigestParts:
            return shared_parts(settings, base, edition, categories, list_id)

        self.get = build
