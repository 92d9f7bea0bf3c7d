"""The mail sender against a real aiosmtpd server on 127.0.0.1: plain, STARTTLS, SMTPS, AUTH,
failures as one MailError, and the development .eml files."""

from __future__ import annotations

import logging
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from dailypapers.mail import MailError, build_message, open_sender, send_mail
from dailypapers.settings import Settings
from tests.support.server import free_port
from tests.support.smtp import start_smtp


def _settings(**values: Any) -> Settings:
    return Settings(mode="development", site_url="https://papers.example.org", **values)


def _message(settings: Settings, to: str = "Zoë Ångström <zoe@example.org>") -> EmailMessage:
    return build_message(
        settings,
        to=to,
        subject="Bestätigen Sie Ihre Adresse — Daily Papers",
        text="Confirm: https://papers.example.org/confirm?token=abc\n\nGrüße",
        html="<p>Confirm: <a href='https://papers.example.org/confirm?token=abc'>here</a></p>",
    )


def test_plain_smtp_to_loopback_delivers_a_standard_message() -> None:
    with start_smtp() as server:
        settings = _settings(smtp_url=server.url(), mail_from="Daily Papers <dp@example.org>")
        sent = send_mail(_message(settings), settings)
    [received] = server.received
    assert received.recipients == ["zoe@example.org"]
    assert received.mail_from == "dp@example.org"
    got = received.message
    assert got["Subject"] == "Bestätigen Sie Ihre Adresse — Daily Papers"
    assert got["To"].addresses[0].display_name == "Zoë Ångström"
    assert got["Message-ID"] == sent.message_id
    assert sent.message_id.endswith("@papers.example.org>")
    assert got["Date"].datetime is not None
    assert received.raw.isascii()  # encoded words and quoted-printable: 7-bit clean
    plain = got.get_body(preferencelist=("plain",))
    html = got.get_body(preferencelist=("html",))
    assert plain is not None and plain.get_content().rstrip().endswith("Grüße")
    assert html is not None and "href=" in html.get_content()


@pytest.mark.parametrize(
    ("tls", "mechanism"), [("starttls", "PLAIN"), ("starttls", "LOGIN"), ("smtps", "PLAIN")]
)
def test_tls_with_auth_from_the_url(tls: str, mechanism: str, tmp_path: Path) -> None:
    user, password = "mailer@example.org", "p@ss:w/rd%"
    with start_smtp(
        tls,  # type: ignore[arg-type]
        credentials=(user, password),
        tmp_dir=tmp_path,
        mechanisms=(mechanism,),
    ) as server:
        url = server.url("mailer%40example.org", "p%40ss%3Aw%2Frd%25")
        settings = _settings(smtp_url=url, smtp_ca_file=server.ca_file)
        with open_sender(settings) as sender:  # one connection for both messages
            sender.send(_message(settings))
            sender.send(_message(settings, "bob@example.org"))
    assert [r.recipients for r in server.received] == [["zoe@example.org"], ["bob@example.org"]]
    assert server.logins == [f"{mechanism}:{user}"]


@pytest.mark.parametrize("tls", ["starttls", "smtps"])
def test_an_untrusted_certificate_is_refused_by_default(tls: str, tmp_path: Path) -> None:
    with start_smtp(tls, tmp_dir=tmp_path) as server:  # type: ignore[arg-type]
        settings = _settings(smtp_url=server.url())
        with pytest.raises(MailError) as caught:
            send_mail(_message(settings), settings)
    assert "its TLS certificate is not trusted" in str(caught.value)
    assert "DAILYPAPERS_SMTP_CA_FILE" in str(caught.value)
    assert not caught.value.temporary and not server.received


def test_a_wrong_password_is_one_clear_error(tmp_path: Path) -> None:
    with start_smtp("starttls", credentials=("u", "right"), tmp_dir=tmp_path) as server:
        settings = _settings(smtp_url=server.url("u", "wrong"), smtp_ca_file=server.ca_file)
        with pytest.raises(MailError) as caught:
            send_mail(_message(settings), settings)
    assert str(caught.value).startswith(f"mail server 127.0.0.1:{server.port} refused the login")
    assert "\n" not in str(caught.value) and "wrong" not in str(caught.value)
    assert caught.value.code == 535 and not caught.value.temporary


def test_an_unreachable_server_is_a_temporary_mail_error() -> None:
    port = free_port()  # nothing listens there
    settings = _settings(smtp_url=f"smtp://127.0.0.1:{port}", smtp_timeout=5)
    with pytest.raises(MailError) as caught:
        send_mail(_message(settings), settings)
    assert str(caught.value) == (
        f"could not reach mail server 127.0.0.1:{port}: Connection refused"
    )
    assert caught.value.temporary


def test_plain_text_to_another_host_needs_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test server is on loopback; the sender is told it is not, as a remote host would be.
    monkeypatch.setattr("dailypapers.mail.smtp_url.SmtpTarget.is_loopback", False)
    with start_smtp() as server:
        settings = _settings(smtp_url=server.url())
        with pytest.raises(MailError, match="offers no STARTTLS"):
            send_mail(_message(settings), settings)
        allowed = _settings(smtp_url=server.url(), smtp_allow_plain=True)
        send_mail(_message(allowed), allowed)
    assert len(server.received) == 1


def test_without_smtp_in_development_mail_is_an_eml_file(
    settings_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings()  # development, no SMTP URL (the test settings)
    with caplog.at_level(logging.WARNING, logger="dailypapers.mail.sender"):
        sent = send_mail(_message(settings), settings)
    assert sent.eml_path is not None and sent.eml_path.parent == settings_env / "mail"
    assert [p.name for p in (settings_env / "mail").iterdir()] == [sent.eml_path.name]
    parsed = message_from_bytes(sent.eml_path.read_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Message-ID"] == sent.message_id
    assert parsed["Subject"] == "Bestätigen Sie Ihre Adresse — Daily Papers"
    assert (sent.eml_path.stat().st_mode & 0o077) == 0  # it holds sign-in links
    assert "https://papers.example.org/confirm?token=abc" in caplog.text


def test_production_without_smtp_says_what_to_set() -> None:
    settings = Settings(mode="production", secret_key="s" * 32)
    with pytest.raises(MailError, match="set DAILYPAPERS_SMTP_URL"):
        send_mail(_message(settings), settings)


def test_the_mail_server_fixture_collects_what_the_site_sends(mail_server) -> None:
    send_mail(_message(Settings()))
    assert [m["To"].addresses[0].addr_spec for m in mail_server.messages] == ["zoe@example.org"]


@pytest.mark.parametrize(
    ("reply", "temporary"),
    [("550 5.1.1 No such user here", False), ("451 4.3.0 Try again later", True)],
)
def test_a_refused_recipient_is_temporary_or_not_by_its_code(reply: str, temporary: bool) -> None:
    with start_smtp() as server:
        server.refuse["gone@example.org"] = reply
        settings = _settings(smtp_url=server.url())
        with open_sender(settings) as sender:
            with pytest.raises(MailError) as caught:
                sender.send(_message(settings, "gone@example.org"))
            sender.send(_message(settings))  # the sender goes on with the next message
    assert (
        str(caught.value)
        == f"mail server 127.0.0.1:{server.port} refused gone@example.org: {reply}"
    )
    assert caught.value.temporary is temporary and caught.value.code == int(reply[:3])
    assert [r.recipients for r in server.received] == [["zoe@example.org"]]
