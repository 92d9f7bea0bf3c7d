"""``dailypapers mail receive``: real messages piped in as an MTA does. A mail to the digest's
List-Unsubscribe mailto (its address and subject, taken from a digest a real SMTP server
received) unsubscribes; an alert's mailto deletes the alert; a DSN bounce report for a digest
the site sent counts a bounce; unknown tokens exit 67, malformed input 65.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from typer.testing import CliRunner

from dailypapers.alerts import service
from dailypapers.alerts.sending import send_alerts
from dailypapers.cli import app as cli_app
from dailypapers.digest import subscriptions as subs
from dailypapers.digest.compose import pick_edition
from dailypapers.digest.outbox import send_edition
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store import alerts as alert_sql
from dailypapers.store.batches import utc_now
from tests.support.accounts import make_user
from tests.support.smtp import SmtpServer
from tests.web.conftest import CAPTURE, FIXTURES
from tests.web.test_digest_outbox import DAY

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def site(
    sqlite_store: Store, settings_env: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> Store:
    url = f"sqlite:///{settings_env / 'dailypapers.sqlite3'}"  # the file sqlite_store opened
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", url)
    monkeypatch.setenv("DAILYPAPERS_SITE_URL", "https://papers.example.org")
    monkeypatch.setenv("DAILYPAPERS_MAIL_RATE", "1000")
    get_settings.cache_clear()
    ingest(sqlite_store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    return sqlite_store


def _pipe(message: bytes) -> subprocess.CompletedProcess[bytes]:
    """``dailypapers mail receive`` in its own process, the message on standard input."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "dailypapers", "mail", "receive"]
    return subprocess.run(command, input=message, capture_output=True, env=env, timeout=120)


def _mailto(header: str) -> tuple[str, str]:
    """The address and subject of the ``mailto:`` in a List-Unsubscribe header."""
    mailto = next(part.strip(" <>") for part in header.split(",") if "mailto:" in part)
    parts = urlsplit(mailto)
    return unquote(parts.path), parse_qs(parts.query)["subject"][0]


def _reply(to: str, subject: str) -> bytes:
    """What a mail client sends for a mailto: link."""
    message = EmailMessage()
    message["From"] = "Ada <ada@example.org>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content("This message will unsubscribe you.\n")
    return message.as_bytes()


def _digest(site: Store, server: SmtpServer, address: str) -> EmailMessage:
    subs.add_subscriber(site, get_settings(), address, "daily", confirmed=True)
    edition = pick_edition(site, "daily", DAY)
    assert edition is not None
    send_edition(site, get_settings(), edition)
    return next(m for m in server.messages if m["To"] == address)


def test_mail_to_the_digest_mailto_unsubscribes(site: Store, mail_server: SmtpServer) -> None:
    digest = _digest(site, mail_server, "ada@example.org")
    to, subject = _mailto(digest["List-Unsubscribe"])
    assert to == "noreply@papers.example.org" and subject.startswith("unsubscribe ")
    done = _pipe(_reply(to, subject))
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().strip() == "unsubscribed from the digest"
    assert subs.of_address(site, "ada@example.org") is None
    again = _pipe(_reply(to, subject))  # the same mail again (a retry): done, nothing to do
    assert (again.returncode, again.stderr.decode().strip()) == (0, "already unsubscribed")


def test_unknown_tokens_and_malformed_input(site: Store) -> None:
    forged = _pipe(_reply("noreply@papers.example.org", "unsubscribe eyJzIjoxfQ.forged"))
    assert forged.returncode == 67 and forged.stderr.decode().startswith("error: unknown")
    runner = CliRunner()
    nothing = runner.invoke(cli_app, ["mail", "receive"], input=_reply("x@example.org", "hello"))
    assert nothing.exit_code == 67
    empty = runner.invoke(cli_app, ["mail", "receive"], input=b"")
    assert empty.exit_code == 65
    garbage = runner.invoke(cli_app, ["mail", "receive"], input=b"\x00\x01 no headers here\n")
    assert garbage.exit_code == 65


def _dsn(original: EmailMessage, status: str, action: str) -> bytes:
    """A bounce report as Postfix writes one (RFC 3464), returning the original's headers."""
    returned = "".join(f"{name}: {value}\r\n" for name, value in original.items())
    to = original["To"]
    text = f"""Return-Path: <>
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: noreply@papers.example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4C1A2B3D.1733032800/mx.example.org"
Message-Id: <20261201060000.4C1A2B3D@mx.example.org>
Date: Tue,  1 Dec 2026 06:00:00 +0000 (UTC)

This is a MIME-encapsulated message.

--4C1A2B3D.1733032800/mx.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{to}>: host mx.example.org said: 550 5.1.1 <{to}>: Recipient address rejected

--4C1A2B3D.1733032800/mx.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: 4C1A2B3D
Arrival-Date: Tue,  1 Dec 2026 05:59:58 +0000 (UTC)

Final-Recipient: rfc822; {to}
Original-Recipient: rfc822;{to}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{to}>: Recipient address rejected

--4C1A2B3D.1733032800/mx.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{returned}
--4C1A2B3D.1733032800/mx.example.org--
"""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def test_a_bounce_report_counts_a_bounce(site: Store, mail_server: SmtpServer) -> None:
    digest = _digest(site, mail_server, "ada@example.org")
    runner = CliRunner()
    delayed = runner.invoke(cli_app, ["mail", "receive"], input=_dsn(digest, "4.4.1", "delayed"))
    assert delayed.exit_code == 0
    assert subs.of_address(site, "ada@example.org").bounces == 0  # type: ignore[union-attr]
    bounced = _pipe(_dsn(digest, "5.1.1", "failed"))
    assert bounced.returncode == 0, bounced.stderr
    assert subs.of_address(site, "ada@example.org").bounces == 1  # type: ignore[union-attr]
    del digest["Message-ID"]
    digest["Message-ID"] = "<not-ours@elsewhere.example>"
    stranger = runner.invoke(cli_app, ["mail", "receive"], input=_dsn(digest, "5.1.1", "failed"))
    assert stranger.exit_code == 67


def test_mail_to_an_alert_mailto_deletes_the_alert(site: Store, mail_server: SmtpServer) -> None:
    ada = make_user(site, "ada", confirmed=True)
    params = {"category": [], "code": False, "sort": "relevance"}
    before = utc_now() - timedelta(days=1)
    alert = service.save_alert(
        site, get_settings(), ada.id, "speculative decoding", params, now=before
    )
    service.run_alerts(site, get_settings(), now=utc_now() + timedelta(seconds=5))
    send_alerts(site, get_settings())
    [mail] = [m for m in mail_server.messages if "alert" in m["Subject"]]
    to, subject = _mailto(mail["List-Unsubscribe"])
    runner = CliRunner()
    done = runner.invoke(cli_app, ["mail", "receive"], input=_reply(to, subject))
    assert done.exit_code == 0
    with site.read() as connection:
        assert alert_sql.alert_by_id(connection, alert.id) is None
