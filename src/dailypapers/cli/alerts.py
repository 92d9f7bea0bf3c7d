"""``dailypapers alerts run [--dry-run]``: match saved-search alerts against the papers new
since their last run and mail the email alerts' matches, what the worker's ``alerts`` job
does, for cron (alerts saved without a query vector get one first, from the model). A second
run finds and sends nothing new. Exit codes: 0 done, 1 sending stopped (the mail server or its
settings; one line says why).
"""

from __future__ import annotations

from typing import Annotated

import typer

from dailypapers.alerts.jobs import query_embedder
from dailypapers.alerts.sending import send_alerts
from dailypapers.alerts.service import run_alerts
from dailypapers.cli import common
from dailypapers.digest.outbox import SendAborted

app = typer.Typer(help="Saved-search alerts: match new papers and send.", no_args_is_help=True)


@app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be recorded; record and send nothing.")
    ] = False,
) -> None:
    """Match every alert against the new papers, then send the due alert mails."""
    settings = common.settings()
    with common.store() as store:
        embed = None if dry_run else query_embedder(store, settings)
        report = run_alerts(store, settings, dry_run=dry_run, embed=embed)
        typer.echo(report.line())
        if dry_run:
            return
        try:
            sent = send_alerts(store, settings)
        except SendAborted as stopped:
            common.fail(f"sending alerts stopped: {stopped}")
    typer.echo(sent.line())
