"""Running a click group the edgebox way: errors as one line on stderr, and
files kept from other accounts."""

from __future__ import annotations

import os
import sys

import click

from edgebox.errors import EdgeboxError


def run_group(group: click.Group) -> None:
    """Run a command group, turning EdgeboxError and OSError into one line
    `error: ...` and exit 1."""
    keep_files_private()
    try:
        group.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except EdgeboxError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:
        # A folder that cannot be written (read-only mount, wrong owner) or a
        # full disk: one line naming the file, not a traceback in the journal.
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)


PRIVATE_BITS = 0o007
"""Masked from every file and folder edgebox creates: the store holds every
document's text, the log and quarantine hold file names (often patients'
names), the central database every clinic's results. The owner and a staff
group keep their access (a UI run from a nurse's own login)."""


def keep_files_private() -> None:
    """Add PRIVATE_BITS to the process umask; a stricter one is kept as it is."""
    os.umask(os.umask(0) | PRIVATE_BITS)
