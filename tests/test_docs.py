"""The README stays true: its settings table and its command list match the code."""

from __future__ import annotations

from pathlib import Path

from dailypapers.settings import Settings, settings_table
from tests.support.commands import all_commands

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_every_setting_is_documented() -> None:
    start, end = "<!-- settings:start -->\n", "\n<!-- settings:end -->"
    table = README.split(start)[1].split(end)[0]
    assert table == settings_table(), "run `dailypapers settings --markdown` into the README"
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"`DAILYPAPERS_{name.upper()}`" in table


def test_every_command_is_in_the_readme() -> None:
    for words in all_commands():
        command = " ".join(["dailypapers", *words])
        assert f"`{command}" in README, f"{command} is missing from the README"
