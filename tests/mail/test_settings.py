"""The SMTP URL and From address settings: parsed once, malformed ones refused at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dailypapers.mail import build_message, parse_address
from dailypapers.mail.smtp_url import parse_smtp_url
from dailypapers.settings import Settings


def test_url_forms() -> None:
    starttls = parse_smtp_url("smtp://user%40example.org:p%2Fw@mail.example.org")
    assert (starttls.host, starttls.port, starttls.security) == (
        "mail.example.org",
        587,
        "starttls",
    )
    assert (starttls.username, starttls.password) == ("user@example.org", "p/w")
    assert "p/w" not in repr(starttls)
    implicit = parse_smtp_url("smtps://mail.example.org")
    assert (implicit.port, implicit.security, implicit.username) == (465, "tls", None)
    local = parse_smtp_url("smtp://localhost:25")
    assert local.is_loopback and local.port == 25
    assert parse_smtp_url("smtp://[::1]:2525").address == "[::1]:2525"
    assert not parse_smtp_url("smtp://mail.example.org:25").is_loopback


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.example.org", "must start with smtp://"),
        ("mail.example.org:587", "must start with smtp://"),
        ("smtp://", "names no host"),
        ("smtp://host:99999", "port must be a number"),
        ("smtp://host:port", "port must be a number"),
        ("smtp://host/path", "no path or query"),
        ("smtp://:secret@host", "password but no user name"),
    ],
)
def test_a_malformed_url_is_refused_at_start(url: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(smtp_url=url)
    message = caught.value.errors()[0]["msg"]
    assert says in message
    assert "secret" not in message


def test_from_address_setting() -> None:
    with pytest.raises(ValidationError, match="expected one mail address"):
        Settings(mail_from="not an address")
    settings = Settings(mail_from="Équipe <papers@example.org>")
    message = build_message(settings, to="a@example.org", subject="s", text="t")
    assert message["From"].addresses[0].display_name == "Équipe"
    assert message["Message-ID"].endswith("@example.org>")  # no site URL: From's domain


def test_header_injection_is_refused() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="line break"):
        build_message(settings, to="a@example.org", subject="hi\r\nBcc: x@evil.test", text="t")
    with pytest.raises(ValueError, match="line break"):
        parse_address("a@example.org\nBcc: x@evil.test")


def test_settings_command_masks_the_smtp_password(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from dailypapers.cli import app
    from dailypapers.settings import get_settings

    monkeypatch.setenv("DAILYPAPERS_SMTP_URL", "smtp://mailer:hunter22@mail.example.org")
    get_settings.cache_clear()
    result = cli.invoke(app, ["settings"])
    assert result.exit_code == 0
    assert "DAILYPAPERS_SMTP_URL=smtp://mailer:********@mail.example.org" in result.output
    assert "hunter22" not in result.output
