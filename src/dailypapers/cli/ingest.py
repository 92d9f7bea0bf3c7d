"""``dailypapers ingest ...``: one subcommand per source; each prints a summary line.

A bad record is reported (to stderr, with its line or position) and skipped; the command
still exits 0. Exit 1 only when the source as a whole is unusable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer

from dailypapers.cli import common
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import Item, SourceUnusable, Summary, ingest

app = typer.Typer(help="Load papers from a source into the store.", no_args_is_help=True)

# Skipped records printed one per line; the rest are only counted.
SHOW_SKIPPED = 20


def report(summary: Summary, label: str) -> None:
    for skipped in summary.skipped_records[:SHOW_SKIPPED]:
        common.err_console.print(f"skipped {skipped.where}: {skipped.reason}", markup=False)
    if summary.skipped > SHOW_SKIPPED:
        common.err_console.print(f"... and {summary.skipped - SHOW_SKIPPED} more skipped")
    typer.echo(f"{label}: {summary.line()}")


def run_source(
    source: str,
    target: str,
    items: Iterable[Item],
    *,
    on_commit: Callable[[Summary], None] = lambda _summary: None,
) -> Summary:
    """Ingest ``items`` into the configured store; an unusable source exits 1 in one line."""
    with common.store() as store:
        try:
            return ingest(
                store, source, target, items,
                batch_size=common.settings().ingest_batch_size, on_commit=on_commit,
            )  # fmt: skip
        except SourceUnusable as error:
            common.fail(str(error))


@app.command("file")
def ingest_file(
    paths: Annotated[list[Path], typer.Argument(help="JSON Lines files, plain or .gz.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="Record format: auto (detect per record), snapshot (Kaggle arXiv "
            "metadata snapshot) or listing (daily-listing records).",
        ),
    ] = "auto",
) -> None:
    """Load arXiv metadata from JSON Lines files (Kaggle snapshot or daily listings)."""
    if fmt not in ("auto", "snapshot", "listing"):
        common.fail(f"--format {fmt!r}: choose auto, snapshot or listing", code=2)
    for path in paths:
        try:
            source = JsonLinesSource(path, fmt)  # type: ignore[arg-type]
        except SourceUnusable as error:
            common.fail(str(error))
        report(_ingest_one_file(source), str(path))


def _ingest_one_file(source: JsonLinesSource) -> Summary:
    with common.progress_bar(source.path.name, total=source.size) as update:
        return run_source(
            "file", str(source.path), source, on_commit=lambda _s: update(source.bytes_read)
        )
