"""The ``dailypapers`` command line: every job (init, ingest, index, stats) is a command for
cron, ``serve`` runs the site and ``worker`` the background jobs.

Run ``dailypapers --help``. Exit codes: 0 success (skipped bad records included), 1 when a
source as a whole is unusable, 2 for bad usage or settings.
"""

from __future__ import annotations

import typer

from dailypapers.cli import admin, alerts, ingest, mail, search, serve, subscribers, users, worker

app = typer.Typer(
    help="dailypapers: a self-hostable daily feed of new arXiv papers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("init")(admin.init)
app.command("stats")(admin.stats)
app.command("settings")(admin.show_settings)
app.add_typer(ingest.app, name="ingest")
app.command("index")(search.index)
app.command("search")(search.search)
app.add_typer(search.eval_app, name="eval")
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.add_typer(users.app, name="users")
app.add_typer(mail.app, name="mail")
app.add_typer(subscribers.app, name="subscribers")
app.add_typer(alerts.app, name="alerts")


def main() -> None:
    app()
