"""What every command shares: settings, opening the store, one-line errors, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store, open_store

err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line that says what went wrong and where, and exit."""
    err_console.print(f"error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def day_option(name: str, value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` option's date; anything else exits 2 with one line."""
    if value is None:
        return None
    try:
        if len(value) != 10:  # fromisoformat also takes 20250101 and 2025-W01-1
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name} {value!r}: expected a date as YYYY-MM-DD", code=2)


def settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if first["loc"]:
            where = ".".join(str(part) for part in first["loc"]).upper()
            message = f"DAILYPAPERS_{where}: {message}"
        fail(message, code=2)


@contextmanager
def store(*, migrate: bool = True) -> Iterator[Store]:
    """The configured store, migrated to the newest schema; closed on the way out."""
    config = settings()
    try:
        opened = open_store(config.resolved_database_url, migrate=migrate)
    except Exception as error:  # a wrong URL, an unreachable server, an unwritable dir
        fail(f"cannot open the database {config.resolved_database_url}: {error}".splitlines()[0])
    try:
        yield opened
    finally:
        opened.dispose()


@contextmanager
def live_progress(*, percent: bool = False) -> Iterator[Progress | None]:
    """A progress display on stderr when it is a terminal, else None.

    ``percent`` shows a percentage (for byte counts) instead of "done/total".
    """
    if not sys.stderr.isatty():
        yield None
        return
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%") if percent else MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err_console, transient=True) as progress:
        yield progress


@contextmanager
def progress_bar(description: str, total: float | None) -> Iterator[Callable[[float], None]]:
    """Yield ``update(completed)`` for one bar; a known ``total`` is shown as a percentage."""
    with live_progress(percent=total is not None) as progress:
        if progress is None:
            yield lambda _completed: None
            return
        task = progress.add_task(description, total=total)
        yield lambda completed: progress.update(task, completed=completed)
