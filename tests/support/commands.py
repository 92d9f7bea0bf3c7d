"""Every command of the CLI, as the words you type ("dailypapers ingest file")."""

from __future__ import annotations

from typing import Any

import typer

from dailypapers.cli import app


def _walk(group: Any, prefix: list[str]) -> list[list[str]]:
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _walk(command, [*prefix, name])
        else:
            found.append([*prefix, name])
    return found


def all_commands() -> list[list[str]]:
    """Each leaf command as its argument list, without the program name."""
    return _walk(typer.main.get_command(app), [])
