"""DKIM: digests (and confirmation mail) signed with the configured key verify with dkimpy
as the SMTP server received them, the signed headers include both unsubscribe headers, a
changed header breaks the signature, and an unreadable key stops sending with one line.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dkim.crypto import parse_pem_private_key

from dailypapers.digest import subscriptions as subs
from dailypapers.digest.compose import pick_edition
from dailypapers.digest.dkim import _OPENSSL_KEYS, _dkimpy_sign, _rsa_sign, sign_bytes
from dailypapers.digest.mails import send_quietly
from dailypapers.digest.outbox import SendAborted, send_edition
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import get_settings
from dailypapers.store import Store
from tests.support.smtp import SmtpServer
from tests.web.conftest import CAPTURE


@pytest.fixture
def public_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A fresh RSA key for the site; returns the TXT record to publish for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("DAILYPAPERS_DKIM_PRIVATE_KEY_FILE", str(tmp_path / "dkim.pem"))
    monkeypatch.setenv("DAILYPAPERS_DKIM_SELECTOR", "mail2026")
    monkeypatch.setenv("DAILYPAPERS_SITE_URL", "https://papers.example.org")
    get_settings.cache_clear()
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def _dns(record: bytes) -> object:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"mail2026._domainkey.papers.example.org." else None

    return lookup


def test_a_digest_verifies_as_received(
    sqlite_store: Store, shared_data: Path, mail_server: SmtpServer, public_record: bytes
) -> None:
    ingest(sqlite_store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    subs.add_subscriber(sqlite_store, get_settings(), "reader@example.org", confirmed=True)
    edition = pick_edition(sqlite_store, "daily", date(2026, 6, 12))
    assert edition is not None
    assert send_edition(sqlite_store, get_settings(), edition).counts == {"sent": 1}
    (received,) = mail_server.received
    assert dkim.verify(received.raw, dnsfunc=_dns(public_record))
    signature = " ".join(str(received.message["DKIM-Signature"]).split())
    assert "d=papers.example.org" in signature and "s=mail2026" in signature
    signed = re.search(r"h=([^;]+)", signature)
    assert signed is not None
    names = {name.strip().lower() for name in signed.group(1).replace(" ", "").split(":")}
    assert {"list-unsubscribe", "list-unsubscribe-post", "list-id", "from", "subject"} <= names
    one_click = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    tampered = received.raw.replace(one_click, one_click.replace(b"One", b"Two"))
    assert tampered != received.raw and not dkim.verify(tampered, dnsfunc=_dns(public_record))


def test_the_confirmation_mail_is_signed_too(
    sqlite_store: Store, mail_server: SmtpServer, public_record: bytes
) -> None:
    from dailypapers.digest.mails import confirmation_mail

    made = subs.subscribe(sqlite_store, get_settings(), "new@example.org", "weekly")
    assert made is not None
    send_quietly(confirmation_mail(get_settings(), "https://papers.example.org", *made),
                 get_settings())  # fmt: skip
    (received,) = mail_server.received
    assert dkim.verify(received.raw, dnsfunc=_dns(public_record))


def test_an_unreadable_key_stops_sending_with_one_line(
    sqlite_store: Store,
    shared_data: Path,
    mail_server: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAILYPAPERS_DKIM_PRIVATE_KEY_FILE", str(tmp_path / "missing.pem"))
    get_settings.cache_clear()
    ingest(sqlite_store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    subs.add_subscriber(sqlite_store, get_settings(), "reader@example.org", confirmed=True)
    edition = pick_edition(sqlite_store, "daily", date(2026, 6, 12))
    assert edition is not None
    with pytest.raises(SendAborted, match="DKIM_PRIVATE_KEY_FILE"):
        send_edition(sqlite_store, get_settings(), edition)
    assert mail_server.received == []


def test_openssl_signs_the_same_bytes_as_dkimpy(public_record: bytes) -> None:
    settings = get_settings()
    assert settings.dkim_private_key_file is not None
    message = (
        b"From: Daily Papers <noreply@papers.example.org>\r\nTo: ada@example.org\r\n"
        b"Subject: A digest\r\nDate: Fri, 12 Jun 2026 07:00:00 +0000\r\n\r\nThe body.\r\n"
    )
    signed = sign_bytes(settings, message, ("From", "To", "Subject", "Date"))
    assert dkim.verify(signed, dnsfunc=_dns(public_record))
    # The same digest signed by dkimpy's own RSA and by OpenSSL: identical signatures.
    parsed = parse_pem_private_key(settings.dkim_private_key_file.read_bytes())
    assert parsed["modulus"] in _OPENSSL_KEYS  # so the OpenSSL path is the one compared
    digest = hashlib.sha256(b"what dkimpy hashes")
    assert _rsa_sign(digest, parsed) == _dkimpy_sign(digest, parsed)
