"""Search backends are chosen by name; an unknown name is a clear error, never a traceback."""

from __future__ import annotations

import typing

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.index.backends import BACKENDS, get_backend
from dailypapers.index.backends.local import LocalBackend
from dailypapers.settings import Settings, get_settings


def test_backends_by_name() -> None:
    assert isinstance(get_backend("local"), LocalBackend)
    with pytest.raises(ValueError, match=r"unknown search backend 'pgvector'; choose one of local"):
        get_backend("pgvector")


def test_the_setting_offers_exactly_the_backends() -> None:
    annotation = Settings.model_fields["search_backend"].annotation
    assert set(typing.get_args(annotation)) == set(BACKENDS)


def test_unknown_backend_setting_is_one_line_and_exit_2(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_SEARCH_BACKEND", "elastic")
    get_settings.cache_clear()
    for command in (["search", "anything"], ["index"], ["stats"]):
        result = cli.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(
            "error: DAILYPAPERS_SEARCH_BACKEND: Input should be 'local'"
        )
        assert result.stderr.count("\n") == 1
