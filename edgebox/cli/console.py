"""`edgebox central user ...` and `edgebox central revoke-device`: the web
console's staff accounts and the end of a device's token, from the shell.

`edgebox.cli.sync` adds them to its `central` group (passing its `--db`
option and how it resolves it), so both ways of running `central` have them.
Every change is a row in the console's audit table, actor `cli`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from edgebox.errors import SyncError

DbOption = Callable[[Callable[..., Any]], Callable[..., Any]]
DbUrl = Callable[[click.Context, str | None], str]


def add_console_commands(
    group: click.Group, db_option: DbOption, db_url: DbUrl
) -> None:
    """Add `user add|list|disable` and `revoke-device` to `group`."""

    @group.group("user")
    def user_group() -> None:
        """Staff accounts of the web console (/console on the central server)."""

    @user_group.command("add")
    @click.argument("name")
    @click.option("--role", type=click.Choice(["admin", "viewer"]), required=True)
    @db_option
    @click.pass_context
    def user_add(ctx: click.Context, name: str, role: str, db: str | None) -> None:
        """Add a user; the password is asked for (or read as one line of stdin)."""
        from edgebox.sync.central.console.security import hash_password

        password = _password()
        with _console(db_url(ctx, db)) as console:
            console.add_user(name, role, hash_password(password))
            console.audit("cli", "user_add", name, role=role)
        click.echo(f"user {name} ({role}) added", err=True)

    @user_group.command("list")
    @db_option
    @click.pass_context
    def user_list(ctx: click.Context, db: str | None) -> None:
        """Users, their role and whether they are disabled."""
        with _console(db_url(ctx, db), create=False) as console:
            users = console.users()
        if not users:
            click.echo("no users yet: add one with `edgebox central user add NAME`")
        for user in users:
            state = "disabled" if user["disabled"] else "active"
            click.echo(f"{user['name']:20} {user['role']:7} {state}")

    @user_group.command("disable")
    @click.argument("name")
    @db_option
    @click.pass_context
    def user_disable(ctx: click.Context, name: str, db: str | None) -> None:
        """Disable a user; their open sessions end at once."""
        with _console(db_url(ctx, db), create=False) as console:
            console.disable_user(name)
            console.audit("cli", "user_disable", name)
        click.echo(f"user {name} disabled", err=True)

    @group.command("revoke-device")
    @click.argument("name")
    @db_option
    @click.pass_context
    def revoke_device(ctx: click.Context, name: str, db: str | None) -> None:
        """Revoke a device's token: its next push gets 401."""
        with _console(db_url(ctx, db), create=False) as console:
            console.revoke_device(name)
            console.audit("cli", "revoke", name)
        click.echo(
            f"device {name} revoked: `edgebox central add-device {name} --rotate`"
            " gives it a new token",
            err=True,
        )


def _password() -> str:
    """From a prompt on a terminal (asked twice), else the first stdin line."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise SyncError("the password must have at least 8 characters")
    return str(password)


class _console:
    """The console's database for one command, closed afterwards."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url, self.create = url, create

    def __enter__(self) -> Any:
        from edgebox.sync.central.console_db import ConsoleDB
        from edgebox.sync.central.database import open_central

        self.central = open_central(self.url, create=self.create)
        return ConsoleDB(self.central)

    def __exit__(self, *exc: object) -> None:
        self.central.close()
