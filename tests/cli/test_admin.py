"""`dailypapers init`, `stats` and `settings`, and one-line errors for bad settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.settings import get_settings
from tests.support.commands import all_commands


def test_init_creates_the_data_dir_and_database(cli: CliRunner, settings_env: Path) -> None:
    result = cli.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert (settings_env / "dailypapers.sqlite3").is_file()
    assert "0 papers" in result.stdout
    assert cli.invoke(app, ["init"]).exit_code == 0  # a second init migrates nothing


def test_stats_json_on_an_empty_store(cli: CliRunner, database_url: str) -> None:
    result = cli.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["papers"] == 0 and report["papers_with_vectors"] == 0
    assert report["last_runs"] == {}


def test_default_secret_is_refused_outside_development(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_MODE", "production")
    get_settings.cache_clear()
    result = cli.invoke(app, ["stats"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "DAILYPAPERS_SECRET_KEY is the default" in result.stderr
    monkeypatch.setenv("DAILYPAPERS_SECRET_KEY", "a-real-secret")
    get_settings.cache_clear()
    assert cli.invoke(app, ["stats"]).exit_code == 0


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DAILYPAPERS_CATEGORIES", " , ", "DAILYPAPERS_CATEGORIES: at least one arXiv category"),
        ("DAILYPAPERS_HTTP_RETRIES", "lots", "DAILYPAPERS_HTTP_RETRIES: Input should be"),
    ],
)
def test_bad_setting_is_one_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    result = cli.invoke(app, ["stats"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {expected}")
    assert result.stderr.count("\n") == 1


def test_unreachable_database_is_one_line(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    get_settings.cache_clear()
    result = cli.invoke(app, ["stats"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot open the database")
    assert result.stderr.count("\n") == 1


def test_settings_masks_the_secret(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILYPAPERS_SECRET_KEY", "hunter2")
    monkeypatch.setenv("DAILYPAPERS_CATEGORIES", "cs.CL, math.AG")
    get_settings.cache_clear()
    result = cli.invoke(app, ["settings"])
    assert "hunter2" not in result.stdout
    assert "DAILYPAPERS_CATEGORIES=cs.CL,math.AG" in result.stdout


def test_every_command_has_help(cli: CliRunner) -> None:
    for words in [[], ["ingest"], *all_commands()]:
        result = cli.invoke(app, [*words, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout, words
