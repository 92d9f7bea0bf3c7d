"""``dailypapers init`` and ``dailypapers stats``: set up the data dir, report what is stored."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from dailypapers.cli import common
from dailypapers.index.dense.embedder import embedder_name
from dailypapers.settings import settings_table, shown_value
from dailypapers.store.batches import utc_now
from dailypapers.store.papers import count_papers
from dailypapers.store.runs import last_runs
from dailypapers.store.vectors import semantic_progress
from dailypapers.worker.registry import JOBS
from dailypapers.worker.status import JobStatus, job_status


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
    """Print what is stored: papers, authors, papers with code, how far the semantic index
    is, each source's last run, each background job's last run and next due time."""
    config = common.settings()
    with common.store() as store, store.read() as connection:
        counts = count_papers(connection)
        runs = last_runs(connection)
        semantic = semantic_progress(connection, embedder_name(config))
        jobs = job_status(connection, config, JOBS, utc_now())
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
        "semantic_index": {
            "papers_with_current_vectors": semantic.embedded,
            "papers": semantic.papers,
            "percent": semantic.percent,
        },
        "jobs": {job.name: _job_report(job) for job in jobs},
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
    typer.echo(
        f"semantic index    {semantic.percent}% of papers ({semantic.embedded} of "
        f"{semantic.papers} have vectors; the rest are found by keywords)"
    )
    for name, job in report["jobs"].items():
        last = job["last_run"]
        done = "never run" if last is None else f"{last['status']:<8} {last['started_at']}"
        counts_text = "" if last is None else _counts_text(last["counts"], last["message"])
        typer.echo(f"job {name:<13} {done}  next {job['next_due'] or 'when asked'}{counts_text}")


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def _job_report(job: JobStatus) -> dict[str, Any]:
    last = job.last
    return {
        "what": job.what,
        "next_due": _stamp(job.next_due),
        "last_run": None
        if last is None
        else {
            "slot": _stamp(last.slot),
            "status": last.status,
            "attempts": last.attempts,
            "started_at": _stamp(last.started_at),
            "finished_at": _stamp(last.finished_at),
            "counts": last.counts,
            "message": last.message,
        },
    }


def _counts_text(counts: dict[str, int], message: str | None) -> str:
    text = ", ".join(f"{value} {name}" for name, value in counts.items())
    text = f"  {text}" if text else ""
    return f"{text}  ({message})" if message else text


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
        shown = shown_value(name, value)
        if isinstance(shown, tuple):
            shown = ",".join(shown)
        typer.echo(f"DAILYPAPERS_{name.upper()}={shown}")
    typer.echo(f"# database: {config.resolved_database_url}")
