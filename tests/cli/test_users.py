"""`dailypapers users ...`: create (password from stdin or a prompt), list, promote,
suspend, delete, token; one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dailypapers.accounts import service as accounts
from dailypapers.cli import app
from dailypapers.settings import get_settings
from dailypapers.store import Store, open_store

PASSWORD = "a long enough passphrase"


@pytest.fixture
def opened(database_url: str) -> Store:
    return open_store(database_url)


def _create(cli: CliRunner, *args: str, password: str = PASSWORD) -> object:
    return cli.invoke(app, ["users", "create", *args, "--password-stdin"], input=password + "\n")


def test_create_list_promote_suspend_delete(cli: CliRunner, opened: Store) -> None:
    made = _create(cli, "ada", "--email", "ada@example.org", "--role", "admin")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    ada = accounts.find_user(opened, "ada")
    assert ada is not None and ada.confirmed and ada.role == "admin"
    assert accounts.authenticate(opened, get_settings(), "ada", PASSWORD) is not None

    taken = _create(cli, "ADA", "--email", "x@example.org")
    assert taken.exit_code == 2 and "username is taken" in taken.stderr  # type: ignore[attr-defined]
    weak = _create(cli, "bob", "--email", "bob@example.org", password="qwertyuiop")
    assert weak.exit_code == 2 and "common passwords" in weak.stderr  # type: ignore[attr-defined]
    assert (
        cli.invoke(
            app,
            [
                "users",
                "create",
                "x",
                "--email",
                "x@example.org",
                "--role",
                "king",
                "--password-stdin",
            ],
            input=PASSWORD,
        ).exit_code
        == 2
    )

    _create(cli, "grace", "--email", "grace@example.org")
    listed = cli.invoke(app, ["users", "list", "--json"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["username"], r["role"], r["state"]) for r in rows] == [
        ("ada", "admin", "confirmed"),
        ("grace", "user", "confirmed"),
    ]
    session = accounts.start_session(opened, get_settings(), accounts.find_user(opened, "grace"))  # type: ignore[arg-type]
    assert cli.invoke(app, ["users", "promote", "grace"]).stdout == "grace is now moderator\n"
    rotated = accounts.resolve_session(opened, session)
    assert rotated is not None and rotated.rotated_token  # a change of role: a new session id
    assert cli.invoke(app, ["users", "suspend", "grace"]).exit_code == 0
    assert accounts.resolve_session(opened, rotated.rotated_token) is None
    assert accounts.authenticate(opened, get_settings(), "grace", PASSWORD) is None
    assert cli.invoke(app, ["users", "suspend", "grace", "--undo"]).exit_code == 0
    assert accounts.authenticate(opened, get_settings(), "grace", PASSWORD) is not None
    assert cli.invoke(app, ["users", "delete", "grace", "--yes"]).exit_code == 0
    assert accounts.find_user(opened, "grace") is None
    missing = cli.invoke(app, ["users", "delete", "grace", "--yes"])
    assert missing.exit_code == 1 and missing.stderr == "error: no user 'grace'\n"
    opened.dispose()


def test_token_prints_the_token_alone(cli: CliRunner, opened: Store) -> None:
    _create(cli, "ada", "--email", "ada@example.org")
    result = cli.invoke(app, ["users", "token", "ada", "--scope", "write"])
    assert result.exit_code == 0
    (line,) = result.stdout.splitlines()
    found = accounts.resolve_bearer(opened, line)
    assert found is not None and found.scope == "write"
    assert cli.invoke(app, ["users", "token", "ada", "--scope", "all"]).exit_code == 2
    opened.dispose()


def test_the_password_prompt_asks_twice(
    cli: CliRunner, opened: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([PASSWORD, "something else entirely"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    differ = cli.invoke(app, ["users", "create", "ada", "--email", "ada@example.org"])
    assert differ.exit_code == 2 and "differ" in differ.stderr
    same = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(same))
    assert cli.invoke(app, ["users", "create", "ada", "--email", "ada@example.org"]).exit_code == 0
    opened.dispose()
