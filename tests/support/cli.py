"""The `edgebox` command run inside the test process through Click's
CliRunner: argument parsing, usage errors and the printed output of quick
commands, without starting an interpreter for each.

What needs the process itself stays with tests/support/processes.run_cli:
the installed entry point's one-line `error:` messages and exit status
(edgebox.cli.runner), its umask, signals, services and the model."""

from __future__ import annotations

from click.testing import CliRunner, Result

from edgebox.cli.commands import cli


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run `edgebox ARGS` in this process; `stdout` and `stderr` stay apart.
    An exception the command does not turn into a usage error propagates, so
    that a failing test shows its traceback."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
