"""Bundle commands: on the centre `edgebox central keygen`, `bundle
create|list|show|approve` and `set-group`; on the box `edgebox bundle
status|rollback`.

`edgebox.cli.sync` adds the central ones to its `central` group (passing its
`--db` option and how it resolves it); `edgebox.cli.commands` adds the box's
group. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from edgebox import config as config_module

DbOption = Callable[[Callable[..., Any]], Callable[..., Any]]
DbUrl = Callable[[click.Context, str | None], str]

_KEY = click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="EDGEBOX_CENTRAL_BUNDLE_KEY",
    required=True,
    help="The private key file `keygen` wrote (or $EDGEBOX_CENTRAL_BUNDLE_KEY).",
)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@contextmanager
def _bundles(url: str, *, create: bool = False) -> Iterator[Any]:
    from edgebox.sync.central.bundle_store import BundleDB
    from edgebox.sync.central.database import open_central

    central = open_central(url, create=create)
    try:
        yield BundleDB(central)
    finally:
        central.close()


def add_bundle_commands(group: click.Group, db_option: DbOption, db_url: DbUrl) -> None:
    """Add `keygen`, `bundle ...` and `set-group` to the central group."""

    @group.command("keygen")
    @click.option(
        "--out", type=click.Path(dir_okay=False, path_type=Path), required=True
    )
    def keygen(out: Path) -> None:
        """Write a new bundle signing key (0600) to --out, outside the
        database; the last line printed is the public key boxes pin."""
        from edgebox.service.bundle_format import new_key

        public = new_key(out)
        click.echo(f"private key written to {out} (mode 0600): keep it off the server")
        click.echo("pin this on every box as [sync] bundle_public_key:")
        click.echo(public)

    @group.command("set-group")
    @click.argument("device")
    @click.argument("name", required=False)
    @db_option
    @click.pass_context
    def set_group(ctx: click.Context, device: str, name: str | None, db: str | None):
        """Put DEVICE in rollout group NAME (no NAME: in none)."""
        with _bundles(db_url(ctx, db)) as bundles:
            bundles.set_group(device, name or None)
        click.echo(f"device {device}: group {name or '(none)'}", err=True)

    @group.group("bundle")
    def bundle_group() -> None:
        """Signed bundles of rules, taxonomy, settings and models for the boxes."""

    _create_command(bundle_group, db_option, db_url)
    _read_commands(bundle_group, db_option, db_url)


def _create_command(group: click.Group, db_option: DbOption, db_url: DbUrl) -> None:
    @group.command("create")
    @_KEY
    @click.option("--models", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--rules", type=_FILE, help="A red-flag rules file.")
    @click.option("--taxonomy", type=_FILE, help="[categories] and [urgency] tables.")
    @click.option("--settings", type=_FILE, help="A TOML with a [triage] table.")
    @click.option("--group", help="Only devices in this group (default: all).")
    @click.option("--next-key", help="Announce the next public key (rotation).")
    @db_option
    @click.pass_context
    def create(ctx: click.Context, key_file: Path, db: str | None, **given: Any):
        """Sign and store a bundle (served only once approved)."""
        from edgebox.sync.central.bundle_build import BundleSources, create_bundle

        sources = BundleSources(
            models=given["models"],
            rules=given["rules"],
            taxonomy=given["taxonomy"],
            settings=given["settings"],
            group=given["group"],
            next_public_key=given["next_key"],
        )
        with _bundles(db_url(ctx, db), create=True) as bundles:
            version = create_bundle(bundles, key_file, sources)
        click.echo(
            f"bundle {version} created; check it with `edgebox central bundle show"
            f" {version}`, then approve it"
        )


def _read_commands(group: click.Group, db_option: DbOption, db_url: DbUrl) -> None:
    @group.command("list")
    @db_option
    @click.pass_context
    def list_bundles(ctx: click.Context, db: str | None) -> None:
        """Every bundle: version, group, size, approval."""
        with _bundles(db_url(ctx, db)) as bundles:
            rows = bundles.bundles()
        if not rows:
            click.echo("no bundles yet: `edgebox central bundle create`")
        for row in rows:
            approved = row["approved_at"] or "not approved"
            click.echo(
                f"{row['version']:5}  {row['created_at']}  group"
                f" {row['target_group'] or 'all'}  {row['size']} bytes  {approved}"
            )

    @group.command("show")
    @click.argument("version", type=int)
    @db_option
    @click.pass_context
    def show(ctx: click.Context, version: int, db: str | None) -> None:
        """A bundle's manifest: files, versions, group and evaluation report."""
        with _bundles(db_url(ctx, db)) as bundles:
            row = bundles.bundle(version)
        _print_bundle(row)

    @group.command("approve")
    @click.argument("version", type=int)
    @click.option("--by", default="cli", show_default=True, help="Who approves.")
    @click.option("--yes", is_flag=True, help="Approve without asking.")
    @db_option
    @click.pass_context
    def approve(
        ctx: click.Context, version: int, by: str, yes: bool, db: str | None
    ) -> None:
        """Show a bundle and its report, then let it go out to the boxes."""
        from edgebox.sync.central.console_db import ConsoleDB

        with _bundles(db_url(ctx, db)) as bundles:
            row = bundles.bundle(version)
            _print_bundle(row)
            if not yes:
                click.confirm(f"approve bundle {version}?", abort=True)
            bundles.approve(version, by)
            ConsoleDB(bundles.central).audit(by, "bundle_approve", str(version))
        click.echo(f"bundle {version} approved: boxes take it at their next sync")


def _print_bundle(row: dict[str, Any]) -> None:
    manifest = json.loads(row["manifest"])
    click.echo(f"bundle {row['version']}  created {row['created_at']}")
    click.echo(f"sha256   {row['sha256']}  ({row['size']} bytes)")
    click.echo(f"group    {row['target_group'] or 'all clinics'}")
    click.echo(f"approved {row['approved_at'] or 'no'} {row['approved_by'] or ''}")
    click.echo(f"sklearn  {manifest.get('sklearn_version') or '-'}")
    if manifest.get("next_public_key"):
        click.echo(f"next key {manifest['next_public_key']}")
    for name, digest in sorted(manifest.get("files", {}).items()):
        click.echo(f"file     {name}  {digest}")
    click.echo("report   " + json.dumps(manifest.get("report"), indent=2))


# -- the box ---------------------------------------------------------------------


@click.group("bundle")
def bundle_group() -> None:
    """The centre's bundle this box runs: status and rollback."""


@bundle_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def bundle_status(ctx: click.Context, as_json: bool) -> None:
    """The bundle in use, the previous one, a hold and the last refusal."""
    from edgebox.service.bundles import status

    settings = config_module.load(ctx.find_root().obj)
    found = status(settings.data_dir)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for line in status_lines(found, pinned=bool(settings.sync.bundle_public_key)):
        click.echo(line)


def status_lines(found: dict[str, Any], *, pinned: bool) -> list[str]:
    """The bundle status in lines (also for `edgebox status`)."""
    lines = [f"bundle      {found['version'] or 'none'}"]
    if found["version"]:
        lines.append(f"  files     {', '.join(found['files']) or '-'}")
    if found["previous"]:
        lines.append(f"  previous  {found['previous']} (`edgebox bundle rollback`)")
    if found["held_from"]:
        lines.append(
            f"  held      rolled back from {found['held_from']}; a newer bundle"
            " from the centre ends the hold"
        )
    refused = found["refused"]
    if refused:
        lines.append(
            f"  refused   bundle {refused['version']} at {refused['at']}:"
            f" {refused['reason']}"
        )
    if not pinned:
        lines.append("  (no [sync] bundle_public_key: no bundles are fetched)")
    return lines


@bundle_group.command("rollback")
@click.pass_context
def bundle_rollback(ctx: click.Context) -> None:
    """Go back to the previous bundle and stay there until a newer one."""
    from edgebox.service.bundles import rollback
    from edgebox.store import Store

    settings = config_module.load(ctx.find_root().obj)
    settings.require_home()
    version = rollback(settings.data_dir)
    with Store(settings.db_path) as store:
        store.update_sync_state({"bundle_version": version})
    click.echo(
        f"now on bundle {version or 'none'}; a running `edgebox serve` takes it"
        " before its next document"
    )
