"""``dailypapers users ...``: make, list, promote, suspend and delete accounts, and make API
tokens, from the command line.

``users create NAME --email ADDRESS [--role user|moderator|admin]`` asks for the password
twice (or reads one line from standard input with ``--password-stdin``); an account made
here is confirmed. ``users token NAME [--scope read|write]`` prints the new token alone on
its line (for scripts: ``TOKEN=$(dailypapers users token ada)``). Exit codes: 0 done, 1 no
such user, 2 bad input (one line says what).
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated

import typer

from dailypapers.accounts import ROLES, AccountError, User
from dailypapers.accounts import service as accounts
from dailypapers.cli import common
from dailypapers.discussion import moderation
from dailypapers.store import Store

app = typer.Typer(
    help="Manage accounts: create, list, promote, suspend, delete, tokens.", no_args_is_help=True
)


def _user_or_fail(store: Store, name: str) -> User:
    user = accounts.find_user(store, name)
    if user is None:
        common.fail(f"no user {name!r}")
    return user


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        common.fail("the two passwords differ", code=2)
    return first


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The user name.")],
    email: Annotated[str, typer.Option("--email", help="The email address (confirmed).")],
    role: Annotated[str, typer.Option("--role", help="user, moderator or admin.")] = "user",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a confirmed account; the password is asked for (or read from stdin)."""
    config = common.settings()
    if role not in ROLES:
        common.fail(f"--role must be one of {', '.join(ROLES)}", code=2)
    password = _read_password(password_stdin)
    with common.store() as store:
        try:
            user = accounts.create_user(
                store, config, name, email, password=password, role=role, confirmed=True
            )
        except AccountError as refused:
            common.fail(str(refused), code=2)
    typer.echo(f"created {user.username} ({user.role}, {user.email})")


@app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Every account: name, email, role, confirmed, suspended."""
    with common.store() as store:
        users = accounts.list_users(store, limit=1_000_000)
    for user in users:
        state = "confirmed" if user.confirmed else "unconfirmed"
        state = "suspended" if user.suspended else state
        if as_json:
            record = {
                "username": user.username,
                "email": user.email,
                "role": user.role,
                "state": state,
                "createdAt": user.created_at.isoformat() + "Z",
            }
            typer.echo(json.dumps(record))
        else:
            typer.echo(f"{user.username}\t{user.email or '-'}\t{user.role}\t{state}")


@app.command("promote")
def promote(
    name: Annotated[str, typer.Argument(help="The user name.")],
    role: Annotated[str, typer.Option("--role", help="user, moderator or admin.")] = "moderator",
) -> None:
    """Give a user a role (moderator by default; `--role user` takes it back)."""
    with common.store() as store:
        user = _user_or_fail(store, name)
        try:
            changed = moderation.set_role(store, None, user, role)
        except AccountError as refused:
            common.fail(str(refused), code=2)
    typer.echo(f"{changed.username} is now {changed.role}")


@app.command("suspend")
def suspend(
    name: Annotated[str, typer.Argument(help="The user name.")],
    undo: Annotated[bool, typer.Option("--undo", help="Reinstate the user.")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")] = "",
) -> None:
    """Suspend a user (signed out everywhere, tokens stop working), or reinstate them."""
    with common.store() as store:
        try:
            user = moderation.set_suspended(
                store, None, _user_or_fail(store, name), not undo, reason or None
            )
        except moderation.ModerationError as refused:
            common.fail(str(refused), code=2)
    typer.echo(f"{user.username} is {'suspended' if user.suspended else 'reinstated'}")


@app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="The user name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account and everything kept with it."""
    with common.store() as store:
        user = _user_or_fail(store, name)
        if not yes and not typer.confirm(f"Delete {user.username} for good?"):
            common.fail("not deleted", code=1)
        accounts.delete_user(store, user.id)
    typer.echo(f"deleted {user.username}")


@app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="The user name.")],
    scope: Annotated[str, typer.Option("--scope", help="read or write.")] = "read",
    label: Annotated[str, typer.Option("--name", help="What the token is for.")] = "cli",
) -> None:
    """Make an API token for a user and print it alone on its line (it is not kept)."""
    with common.store() as store:
        user = _user_or_fail(store, name)
        try:
            made, _ = accounts.create_token(store, user, label, scope)
        except AccountError as refused:
            common.fail(str(refused), code=2)
    typer.echo(made)
