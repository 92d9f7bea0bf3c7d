"""``dailypapers subscribers ...``: the operator's view of digest subscriptions.

``subscribers add ADDRESS [--frequency daily|weekly] [--category cs.CL ...] [--confirmed]``
imports an address (``--confirmed`` only for lists whose consent the operator holds;
otherwise it waits for a confirmation, which ``--send-confirmation`` mails);
``subscribers list`` prints one line per subscription, ``export`` writes CSV (all stored
fields), ``remove ADDRESS`` deletes one. Exit codes: 0 done, 1 no such subscriber, 2 bad
input.
"""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import typer

from dailypapers.cli import common
from dailypapers.digest import subscriptions as subs
from dailypapers.digest.compose import base_url
from dailypapers.digest.mails import confirmation_mail, send_signed
from dailypapers.mail import MailError

app = typer.Typer(help="Digest subscribers: add, list, export, remove.", no_args_is_help=True)

FIELDS = ("email", "frequency", "categories", "status", "bounces", "created_at", "confirmed_at")


@app.command("add")
def add(
    address: Annotated[str, typer.Argument(help="The email address.")],
    frequency: Annotated[str, typer.Option("--frequency", help="daily or weekly.")] = "daily",
    category: Annotated[
        list[str] | None, typer.Option("--category", help="A category (repeat); default all.")
    ] = None,
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Consent is already held: no confirmation.")
    ] = False,
    send_confirmation: Annotated[
        bool, typer.Option("--send-confirmation", help="Mail the address a confirmation link.")
    ] = False,
) -> None:
    """Add (or update) a subscription."""
    settings = common.settings()
    with common.store() as store:
        try:
            found, new = subs.add_subscriber(
                store, settings, address, frequency, category or [], confirmed=confirmed
            )
        except subs.SubscriptionError as bad:
            common.fail(f"{address!r}: {bad}", code=2)
    if send_confirmation and found.status == "pending":
        payload = {"s": found.id, "e": subs.email_key(found.email), "f": found.frequency,
                   "c": list(found.categories)}  # fmt: skip
        try:
            send_signed(confirmation_mail(settings, base_url(settings), found, payload), settings)
        except MailError as error:
            common.fail(f"confirmation not sent: {error}")
    typer.echo(f"{found.email}: {'added' if new else 'updated'}, {found.status}, {found.frequency}")


@app.command("list")
def list_subscribers() -> None:
    """One line per subscription: address, frequency, categories, status."""
    with common.store() as store:
        for found in subs.all_subscriptions(store):
            categories = ",".join(found.categories) or "all"
            typer.echo(f"{found.email}\t{found.frequency}\t{categories}\t{found.status}")


@app.command("export")
def export() -> None:
    """Every stored field of every subscription as CSV on standard output."""
    with common.store() as store:
        found = subs.all_subscriptions(store)
    writer = csv.writer(sys.stdout)
    writer.writerow(FIELDS)
    for item in found:
        row = {**item.__dict__, "categories": ",".join(item.categories)}
        writer.writerow(["" if row[name] is None else row[name] for name in FIELDS])


@app.command("remove")
def remove(address: Annotated[str, typer.Argument(help="The email address.")]) -> None:
    """Delete a subscription and its deliveries."""
    with common.store() as store:
        if not subs.remove_subscriber(store, address):
            common.fail(f"no subscription for {address!r}")
    typer.echo(f"{address}: removed")
