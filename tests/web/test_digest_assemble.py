"""Digest mail assembled from bytes reads, through the ``email`` package, exactly as the mail
the package builds itself: the same headers (encoded names and subject included), both parts
with the subscriber's own unsubscribe link, and lines short enough for SMTP.
Papers: Hugging Face's real 2026-06-12 capture.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default

import pytest

from dailypapers.digest import subscriptions as subs
from dailypapers.digest.assemble import MARKER, assemble, shared_parts
from dailypapers.digest.compose import base_url, digest_message, pick_edition
from dailypapers.digest.edition import Edition, Kind
from dailypapers.digest.headers import (
    delivery_message_id,
    list_headers,
    list_id,
    unsubscribe_mailto,
    unsubscribe_url,
)
from dailypapers.digest.outbox import send_edition
from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store

DAY = date(2026, 6, 12)
NOW = datetime(2026, 6, 13, 7, 30, tzinfo=UTC)


def _parse(data: bytes) -> EmailMessage:
    parsed = message_from_bytes(data, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _both(
    settings: Settings, edition: Edition, categories: tuple[str, ...], to: str
) -> tuple[EmailMessage, EmailMessage, bytes]:
    """(built by the email package, assembled from bytes, the assembled bytes)."""
    url = unsubscribe_url(settings, base_url(settings), 7, to.lower())
    message_id = delivery_message_id(settings, edition, 7)
    built = digest_message(
        settings, edition, to, categories=categories, unsubscribe=url, message_id=message_id,
        headers=list_headers(settings, edition, 7, to.lower(), url),
    )  # fmt: skip
    parts = shared_parts(
        settings, base_url(settings), edition, categories, list_id(settings, edition)
    )
    data = assemble(
        parts, to=to, message_id=message_id, unsubscribe_url=url,
        unsubscribe_mailto=unsubscribe_mailto(settings, url), now=NOW,
    )  # fmt: skip
    return _parse(built.as_bytes(policy=SMTP)), _parse(data), data


@pytest.mark.parametrize(
    ("kind", "day", "categories"),
    [
        ("daily", DAY, ()),
        ("weekly", date(2024, 1, 2), ("cs.CL",)),  # the snapshot sample's week
        ("weekly", date(2024, 1, 2), ("cs.CL", "cs.CV")),
    ],
)
def test_assembled_mail_reads_as_the_built_one(
    filled: Store,
    monkeypatch: pytest.MonkeyPatch,
    kind: Kind,
    day: date,
    categories: tuple[str, ...],
) -> None:
    monkeypatch.setenv("DAILYPAPERS_SITE_URL", "https://papers.example.org")
    monkeypatch.setenv("DAILYPAPERS_MAIL_FROM", "Élodie Crème des Papiers <papers@example.org>")
    monkeypatch.setenv("DAILYPAPERS_MAIL_REPLY_TO", "Zoë <help@example.org>")
    settings = get_settings()
    edition = pick_edition(filled, kind, day)
    assert edition is not None
    built, assembled, data = _both(settings, edition, categories, "reader@example.org")
    assert "No papers in this edition" not in str(built.get_body(("plain",)))
    for name in (
        "From", "To", "Subject", "Message-ID", "Reply-To", "List-Id", "List-Unsubscribe",
        "List-Unsubscribe-Post", "Precedence", "Auto-Submitted", "MIME-Version",
    ):  # fmt: skip
        assert assembled[name] == built[name], name
    assert assembled["From"].addresses[0].display_name == "Élodie Crème des Papiers"
    assert assembled.get_content_type() == "multipart/alternative"
    for subtype in ("plain", "html"):
        mine, theirs = assembled.get_body((subtype,)), built.get_body((subtype,))
        assert mine is not None and theirs is not None
        assert mine.get_content() == theirs.get_content()
        assert mine.get_content_charset() == "utf-8"
        assert MARKER not in mine.get_content()
    assert assembled["Date"].datetime == NOW
    assert not assembled.defects
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    quoted = [part for part in data.split(b"\r\n--=_digest_") if b"quoted-printable" in part]
    assert quoted  # the text part's "▲" at least
    for part in quoted:  # RFC 2045: 76, and a soft break after the link's piece may add one
        assert max(len(line) for line in part.split(b"\r\n")) <= 77
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ends CRLF
    # The unsubscribe header stays readable (RFC 2369 clients do not decode RFC 2047 words).
    assert b"List-Unsubscribe: <https://papers.example.org/unsubscribe?token=" in data


def test_a_named_or_international_address_is_encoded(filled: Store) -> None:
    settings = get_settings()
    edition = pick_edition(filled, "daily", DAY)
    assert edition is not None
    built, assembled, data = _both(settings, edition, (), "Jürgen Groß <jg@example.org>")
    assert assembled["To"] == built["To"]
    assert assembled["To"].addresses[0].display_name == "Jürgen Groß"
    assert b"To: =?utf-8?" in data


def test_a_line_break_in_an_address_is_refused(filled: Store) -> None:
    settings = get_settings()
    edition = pick_edition(filled, "daily", DAY)
    assert edition is not None
    parts = shared_parts(settings, base_url(settings), edition, (), list_id(settings, edition))
    with pytest.raises(ValueError, match="line break"):
        assemble(
            parts, to="a@example.org\r\nBcc: b@example.org", message_id="<x@example.org>",
            unsubscribe_url="https://x/unsubscribe?token=t", unsubscribe_mailto="mailto:x@y",
        )  # fmt: skip


def test_without_a_mail_server_development_writes_each_digest_to_an_eml_file(
    filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAILYPAPERS_SMTP_URL", raising=False)
    monkeypatch.setenv("DAILYPAPERS_MODE", "development")
    monkeypatch.setenv("DAILYPAPERS_MAIL_RATE", "1000")
    settings = get_settings()
    for address in ("one@example.org", "two@example.org"):
        subs.add_subscriber(filled, settings, address, confirmed=True)
    edition = pick_edition(filled, "daily", DAY)
    assert edition is not None
    report = send_edition(filled, settings, edition)
    assert report.counts == {"sent": 2}
    files = sorted((settings.data_dir / "mail").glob("*.eml"))
    received = {str(_parse(path.read_bytes())["To"]): _parse(path.read_bytes()) for path in files}
    assert set(received) == {"one@example.org", "two@example.org"}
    for message in received.values():
        text = message.get_body(("plain",))
        assert text is not None and "/unsubscribe?token=" in text.get_content()
