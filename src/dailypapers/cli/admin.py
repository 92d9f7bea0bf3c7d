"""``dailypapers init`` and ``dailypapers stats``: set up the data dir, report what is stored."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from dailypapers.cli import common
from dailypapers.settings import settings_table
from dailypapers.store.papers import count_papers
from dailypapers.store.runs import last_runs


def init() -> None:
    """Create the data dir and database, or migrate them to the newest schema."""
    config = common.settings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with common.store() as store, store.read() as connection:
        counts = count_papers(connection)
    typer.echo(f"ready: {config.resolved_database_url} ({counts.papers} papers)")


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print what is stored: papers, authors, papers with code, each source's last run."""
    with common.store() as store, store.read() as connection:
        counts = count_papers(connection)
        runs = last_runs(connection)
    report: dict[str, Any] = {
        "papers": counts.papers,
        "authors": counts.authors,
        "papers_with_code": counts.with_code,
        "papers_with_vectors": counts.with_vectors,
        "last_runs": {
            run.source: {
                "target": run.target,
                "status": run.status,
                "started_at": run.started_at.isoformat() + "Z",
                "finished_at": run.finished_at.isoformat() + "Z" if run.finished_at else None,
                "new": run.new,
                "updated": run.updated,
                "unchanged": run.unchanged,
                "skipped": run.skipped,
                "message": run.message,
            }
            for run in runs
        },
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"papers            {counts.papers}")
    typer.echo(f"authors           {counts.authors}")
    typer.echo(f"papers with code  {counts.with_code}")
    typer.echo(f"papers w/ vectors {counts.with_vectors}")
    for source, run in report["last_runs"].items():
        typer.echo(
            f"last {source:<10} {run['status']:<8} {run['started_at']}  "
            f"{run['new']} new, {run['updated']} updated, {run['unchanged']} unchanged, "
            f"{run['skipped']} skipped  {run['target']}"
        )


def show_settings(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the README's table of all settings.")
    ] = False,
) -> None:
    """Print the settings in effect (the secret key masked), or the table of all settings."""
    if markdown:
        typer.echo(settings_table())
        return
    config = common.settings()
    for name, value in config.model_dump().items():
        shown = "********" if name == "secret_key" else value
        if isinstance(shown, tuple):
            shown = ",".join(shown)
        typer.echo(f"DAILYPAPERS_{name.upper()}={shown}")
    typer.echo(f"# database: {config.resolved_database_url}")
