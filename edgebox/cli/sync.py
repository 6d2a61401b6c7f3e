"""`edgebox sync` (the clinic box) and `edgebox central ...` (the NGO's server).

`edgebox.cli.commands` adds these two commands to its group; `python -m
edgebox.cli.sync` runs them alone (the tests and the loopback server use
that). Heavy imports (httpx, pydantic, FastAPI, uvicorn) happen inside the
commands, so that every other `edgebox` command starts as fast as before.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import click

from edgebox import config as config_module
from edgebox.cli.bundles import add_bundle_commands
from edgebox.cli.console import add_console_commands
from edgebox.cli.pooled import add_pooled_commands, drift_options, limits_from
from edgebox.cli.runner import run_group
from edgebox.errors import SyncError
from edgebox.sync.central.clock import MAX_CLOCK_SKEW_S

_DB_HELP = (
    "A SQLite file path, sqlite:///PATH or postgresql://USER@HOST/DB "
    "(default: $EDGEBOX_CENTRAL_DB, else <home>/central/central.db)."
)


def _home(ctx: click.Context) -> Path | None:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Path) else None


@click.command("sync")
@click.option("--once", is_flag=True, help="Push what is pending now, then exit.")
@click.option("--status", "show_status", is_flag=True, help="Show the sync state.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--retry-dead",
    is_flag=True,
    help="Queue the dead-lettered results again (once their cause is fixed).",
)
@click.option(
    "--attempts",
    default=6,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Tries per batch before a run gives up (with growing waits).",
)
@click.pass_context
def sync_command(
    ctx: click.Context,
    once: bool,
    show_status: bool,
    as_json: bool,
    retry_dead: bool,
    attempts: int,
) -> None:
    """Send results to the central server (without --once: keep syncing)."""
    from edgebox.store import Store, open_for_reading
    from edgebox.sync.client import sync_status

    settings = config_module.load(_home(ctx))
    for notice in settings.notices:  # e.g. why sync is off
        click.echo(f"warning: {notice}", err=True)
    if retry_dead or show_status:
        settings.require_home()
    if retry_dead:
        with Store(settings.db_path) as store:
            count = store.retry_dead_outbox()
        click.echo(f"{count} dead-lettered result(s) queued again")
        if not once:
            return
    if show_status:
        with open_for_reading(settings.db_path) as store:
            _print_status(sync_status(store), as_json)
        return
    if not once:
        _run_loop(settings, attempts)
        return
    from edgebox.sync.loop import push_once

    report = push_once(settings, max_attempts=attempts)
    if as_json:
        click.echo(json.dumps(report.__dict__ | {"ok": report.ok}, indent=2))
    else:
        click.echo(
            f"sent {report.acknowledged} (of which {report.duplicates} already held),"
            f" dead {report.dead}, pending {report.pending},"
            f" {report.bytes_sent} bytes in {report.requests} request(s)"
        )
    if report.bundle:
        click.echo(report.bundle, err=True)
    if not report.ok:
        raise SyncError(f"sync incomplete: {report.error}")
    if report.problems:
        raise SyncError("documents not sent: " + "; ".join(report.problems))
    if report.dead:
        # Delivered all it could, but some results will not arrive unless a
        # person acts: a cron job or a volunteer must not read that as success.
        raise SyncError(
            f"{report.dead} result(s) were dead-lettered; `edgebox sync --status`"
            " says why, `edgebox sync --retry-dead` sends them again"
        )


def _run_loop(settings: config_module.Config, attempts: int) -> None:
    from edgebox.sync.loop import SyncLoop, why_off

    reason = why_off(settings)
    if reason:  # not a loop that ends at once with exit status 0
        raise SyncError(f"sync is off: {reason}")

    def on_report(report: Any) -> None:
        click.echo(_one_line(report), err=True)

    loop = SyncLoop(settings, on_report=on_report, max_attempts=attempts)
    worker = threading.Thread(target=loop.run, name="edgebox-sync", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(timeout=1.0)
    except KeyboardInterrupt:
        loop.stop()
        worker.join(timeout=settings.sync.timeout_s + 5)


def _one_line(report: Any) -> str:
    if report.ok:
        return f"sync: sent {report.acknowledged}, pending {report.pending}"
    return f"sync: {report.error} (pending {report.pending})"


def _print_status(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    outbox = ", ".join(f"{k} {v}" for k, v in status["outbox"].items())
    click.echo(f"outbox        {outbox}")
    for key in ("last_attempt", "last_success", "last_error"):
        click.echo(f"{key:13} {status[key] or '-'}")
    if status["document_problems"]:
        click.echo(f"documents     {status['document_problems']}")
    sent = f"{status['records_sent']} records, {status['bytes_sent']} bytes"
    click.echo(f"sent          {sent}")
    for row in status["dead"]:
        click.echo(
            f"dead          {row['kind']} document {row['document_id']}"
            f" revision {row['revision']}: {row['reason']}"
        )


# -- the central server --------------------------------------------------------


@click.group("central")
def central_group() -> None:
    """The central server that receives the clinic boxes' results."""


def _db_url(ctx: click.Context, db: str | None) -> str:
    if db:
        return db
    return str(config_module.home_dir(_home(ctx)) / "central" / "central.db")


_db_option = click.option("--db", envvar="EDGEBOX_CENTRAL_DB", help=_DB_HELP)


_KEEP_DAYS = click.option(
    "--keep-days",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    envvar="EDGEBOX_CENTRAL_KEEP_DAYS",
    help="Days the server keeps received records (0: for ever).",
)


_MAX_SKEW = click.option(
    "--max-clock-skew-s",
    type=click.FloatRange(min=0),
    default=MAX_CLOCK_SKEW_S,
    show_default=True,
    envvar="EDGEBOX_CENTRAL_MAX_CLOCK_SKEW_S",
    help="Warn about a box whose clock is off by more seconds than this.",
)


@central_group.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address.")
@click.option("--port", default=8470, show_default=True, type=int, help="TCP port.")
@click.option("--max-body-bytes", type=int, help="Largest batch on the wire.")
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False))
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--secure-cookies",
    is_flag=True,
    envvar="EDGEBOX_CONSOLE_SECURE_COOKIES",
    help="Console cookies only over HTTPS (on with --ssl-certfile; set it behind"
    " a TLS proxy).",
)
@_KEEP_DAYS
@_MAX_SKEW
@click.pass_context
def serve(
    ctx: click.Context,
    db: str | None,
    host: str,
    port: int,
    max_body_bytes: int | None,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    secure_cookies: bool,
    keep_days: int,
    max_clock_skew_s: float,
) -> None:
    """Run the central server (uvicorn) until stopped."""
    import uvicorn

    from edgebox.sync.central.database import open_central, shown_url
    from edgebox.sync.central.retention import start_pruning
    from edgebox.sync.central.server import MAX_BODY_BYTES, create_app

    url = _db_url(ctx, db)
    if ssl_certfile:
        _check_certificate(ssl_certfile, ssl_keyfile)
    central = open_central(url)
    start_pruning(central, keep_days)
    app = create_app(
        central,
        max_body_bytes=max_body_bytes or MAX_BODY_BYTES,
        secure_cookies=secure_cookies or bool(ssl_certfile),
        max_clock_skew_s=max_clock_skew_s,
    )
    click.echo(f"edgebox central on {host}:{port}, database {shown_url(url)}", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )


def _check_certificate(certfile: str, keyfile: str | None) -> None:
    """Load the TLS pair once before serving: a bad PEM or a key that does not
    match is one line naming the files, not a traceback from inside uvicorn."""
    import ssl

    try:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as exc:
        key = keyfile or "in the same file"
        raise SyncError(
            f"cannot use the TLS certificate {certfile} (key {key}): {exc}"
        ) from None


@central_group.command("add-device")
@click.argument("name")
@_db_option
@click.option("--rotate", is_flag=True, help="Replace the token of an existing device.")
@click.option("--group", help="Its rollout group for bundles (see `set-group`).")
@click.pass_context
def add_device(
    ctx: click.Context, name: str, db: str | None, rotate: bool, group: str | None
) -> None:
    """Register a clinic box; prints its token once (only a hash is kept)."""
    from edgebox.sync.central.auth import new_token
    from edgebox.sync.central.database import open_central
    from edgebox.sync.payload import DEVICE_PATTERN

    if not re.match(DEVICE_PATTERN, name):
        raise SyncError(
            f"device name {name!r}: letters, digits, '.', '_' or '-', at most 64"
        )
    central = open_central(_db_url(ctx, db))
    try:
        _, token = central.register_device(name, new_token, rotate=rotate)
        if group:
            from edgebox.sync.central.bundle_store import BundleDB

            BundleDB(central).set_group(name, group)
    finally:
        central.close()
    click.echo(token)
    click.echo(
        f"device {name}: set EDGEBOX_SYNC_TOKEN to the line above on the box;"
        " it is not shown again",
        err=True,
    )


@central_group.command("status")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@drift_options
@_MAX_SKEW
@click.pass_context
def central_status(
    ctx: click.Context,
    db: str | None,
    as_json: bool,
    max_clock_skew_s: float,
    **drift: Any,
) -> None:
    """Per device: last seen, records received, pending count it reported."""
    from edgebox.sync.central.clock import shown_skew, skew_too_large
    from edgebox.sync.central.database import open_central
    from edgebox.sync.central.drift import drift_report, flagged_clinics

    central = open_central(_db_url(ctx, db), create=False)
    try:
        devices = central.devices()
        # Drift (`edgebox central drift` says more): reasons per flagged clinic.
        flags = flagged_clinics(
            drift_report(central.triage_history(), limits_from(drift))
        )
        shared = central.pooled_counts()  # reviews shared for pooled learning
    finally:
        central.close()
    for device in devices:
        device["drift"] = flags.get(device["name"], [])
        device["shared_reviews"] = shared.get(device["name"], 0)
    if as_json:
        click.echo(json.dumps(devices, indent=2))
        return
    if not devices:
        click.echo("no devices yet: add one with `edgebox central add-device NAME`")
    for device in devices:
        click.echo(
            f"{device['name']:20} last seen {device['last_seen'] or 'never'},"
            f" {device['records']} records, pending {_dash(device['pending'])},"
            f" dead {_dash(device['dead'])}, conflicts {device['conflicts']},"
            f" reinstalls {device['reinstalls']},"
            f" app {_dash(device['app_version'])},"
            f" protocol {_dash(device['protocol'])},"
            f" bundle {_dash(device['bundle_version'])}"
            f" (group {device['device_group'] or 'none'}),"
            f" clock skew {shown_skew(device['clock_skew_s'])},"
            f" shared reviews {device['shared_reviews']}"
        )
        for why in device["drift"]:
            click.echo(f"{'':20} DRIFT {why}")
        if skew_too_large(device["clock_skew_s"], max_clock_skew_s):
            click.echo(
                f"warning: {device['name']}'s clock is off by"
                f" {shown_skew(device['clock_skew_s'])} (limit"
                f" {max_clock_skew_s:g} s); its own times are not to be trusted",
                err=True,
            )


add_console_commands(central_group, _db_option, _db_url)
add_bundle_commands(central_group, _db_option, _db_url)
add_pooled_commands(central_group, _db_option, _db_url)


def _dash(value: Any) -> str:
    return "-" if value is None else str(value)


@click.group()
@click.option("--home", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def main_group(ctx: click.Context, home: Path | None) -> None:
    """`sync` and `central` on their own (as `edgebox` wires them)."""
    ctx.obj = config_module.home_dir(home)


main_group.add_command(sync_command)
main_group.add_command(central_group)


def main() -> None:
    run_group(main_group)


if __name__ == "__main__":
    main()


@central_group.command("prune")
@_db_option
@_KEEP_DAYS
@click.option("--dry-run", is_flag=True, help="Count what is due; delete nothing.")
@click.pass_context
def central_prune(
    ctx: click.Context, db: str | None, keep_days: int, dry_run: bool
) -> None:
    """Delete records, batches and documents older than --keep-days (logged)."""
    from edgebox.sync.central.database import open_central
    from edgebox.sync.central.retention import prune

    central = open_central(_db_url(ctx, db), create=False)
    try:
        counts = prune(central, keep_days, dry_run=dry_run)
    finally:
        central.close()
    verb = "due" if dry_run else "deleted"
    click.echo(", ".join(f"{table} {n} {verb}" for table, n in counts.items()))
