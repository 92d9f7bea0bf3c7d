"""``dailypapers mail ...``: digest mail for operators and cron.

``mail preview [--edition daily|weekly] [--date YYYY-MM-DD] [--format text|html|eml]
[--output FILE]`` prints an edition's digest (or saves it; ``eml`` is the whole message,
open it in a mail client). ``mail send [--edition daily|weekly] [--date YYYY-MM-DD]
[--dry-run]`` queues the edition for its subscribers and sends what is due; a second run
sends nothing (deliveries are kept in the store's outbox), and a killed run is finished by
the next. Exit codes: 0 done, 1 no papers for that edition or sending stopped (the mail
server or its settings; one line says why), 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dailypapers.cli import common
from dailypapers.digest.compose import digest_message, pick_edition, render_for
from dailypapers.digest.edition import KINDS, Edition, Kind
from dailypapers.digest.outbox import SendAborted, send_edition

app = typer.Typer(help="Digest mail: preview and send editions.", no_args_is_help=True)

EditionOption = Annotated[str, typer.Option("--edition", help="daily or weekly.")]
DateOption = Annotated[
    str | None,
    typer.Option("--date", help="A day (YYYY-MM-DD) of the edition; default: the one due."),
]


def edition_or_fail(kind: str, day: str | None) -> Edition:
    if kind not in KINDS:
        common.fail(f"--edition must be daily or weekly, got {kind!r}", code=2)
    when = common.day_option("--date", day)
    checked: Kind = "daily" if kind == "daily" else "weekly"
    with common.store() as store:
        edition = pick_edition(store, checked, when)
    if edition is None or not edition.entries:
        name = edition.name if edition else kind
        common.fail(f"no papers for the {name} edition")
    return edition


@app.command("preview")
def preview(
    edition: EditionOption = "daily",
    date: DateOption = None,
    form: Annotated[str, typer.Option("--format", help="text, html or eml.")] = "text",
    output: Annotated[Path | None, typer.Option("--output", help="Save to this file.")] = None,
) -> None:
    """Print (or save) an edition's digest as a subscriber of every category gets it."""
    if form not in ("text", "html", "eml"):
        common.fail(f"--format must be text, html or eml, got {form!r}", code=2)
    settings = common.settings()
    found = edition_or_fail(edition, date)
    if form == "eml":
        message = digest_message(settings, found, "subscriber@example.org")
        data = message.as_bytes()
    else:
        rendered = render_for(settings, found, (), None)
        body = rendered.text if form == "text" else rendered.html
        data = (f"Subject: {rendered.subject}\n\n{body}" if form == "text" else body).encode()
    if output is None:
        typer.echo(data.decode("utf-8", "replace"), nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as error:
        common.fail(f"cannot write {output}: {error.strerror}")
    typer.echo(f"{found.name}: {len(data):,} bytes written to {output}")


@app.command("send")
def send(
    edition: EditionOption = "daily",
    date: DateOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say how many would be sent; send nothing.")
    ] = False,
) -> None:
    """Send an edition to every confirmed subscriber who has not had it (for cron)."""
    settings = common.settings()
    found = edition_or_fail(edition, date)
    with common.store() as store:
        try:
            report = send_edition(store, settings, found, dry_run=dry_run)
        except SendAborted as stopped:
            common.fail(f"sending {found.name} stopped: {stopped}")
    typer.echo(report.line())
    if report.next_retry is not None:
        typer.echo(f"some deliveries are retried from {report.next_retry:%Y-%m-%d %H:%M} UTC on")


@app.command("receive")
def receive() -> None:
    """Read one message on standard input (for an MTA pipe): an unsubscribe request to the
    List-Unsubscribe mailto, or a bounce report. Exit 0 done, 67 unknown token or message,
    65 malformed (sysexits, which MTAs understand); one line on stderr."""
    import sys

    from dailypapers.digest.inbound import EX_OK, MAX_BYTES, handle

    settings = common.settings()
    data = sys.stdin.buffer.read(MAX_BYTES + 1)
    with common.store() as store:
        outcome = handle(store, settings, data)
    common.err_console.print(
        outcome.line if outcome.code == EX_OK else f"error: {outcome.line}", markup=False
    )
    raise typer.Exit(outcome.code)
