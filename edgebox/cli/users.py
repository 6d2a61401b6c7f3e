"""`edgebox users`: the box's named reviewers (whoever can run commands on
the box administers them; the UI asks a reviewer for their name and PIN)."""

from __future__ import annotations

import json
import sys

import click

from edgebox import config as config_module
from edgebox.store.staff import ROLES, add_staff, disable_staff, list_staff


def _settings(ctx: click.Context) -> config_module.Config:
    settings = config_module.load(ctx.find_root().obj)
    settings.require_home()
    return settings


def _read_pin(pin_stdin: bool) -> str:
    """From a prompt typed twice, or one line of standard input (scripts)."""
    if pin_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("PIN", hide_input=True, confirmation_prompt=True)


@click.group("users")
def users_group() -> None:
    """Named reviewers: add, list, disable."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, pin_stdin: bool) -> None:
    """Register NAME with a PIN (at least 4 characters). Once anyone is
    registered, the UI asks who is reviewing, and checks the PIN."""
    from edgebox.store import Store

    settings = _settings(ctx)
    pin = _read_pin(pin_stdin)
    with Store(settings.db_path) as store:
        added = add_staff(store, name, pin, role=role)
    click.echo(f"{added} can now sign in to review ({role})")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON list.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """Registered reviewers, with their role and whether they are disabled."""
    from edgebox.store import open_for_reading

    settings = _settings(ctx)
    with open_for_reading(settings.db_path) as store:
        staff = list_staff(store.db)
    if as_json:
        click.echo(json.dumps([member.__dict__ for member in staff], indent=2))
        return
    if not staff:
        click.echo("no reviewers registered: the UI signs with the login name")
    for member in staff:
        state = f"disabled {member.disabled_at[:10]}" if member.disabled_at else ""
        click.echo(f"{member.name:<24} {member.role:<6} {state}".rstrip())


@users_group.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx: click.Context, name: str) -> None:
    """NAME can no longer sign in or sign; their past reviews stay theirs."""
    from edgebox.store import Store

    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        disable_staff(store, name)
    click.echo(f"{name} is disabled")
