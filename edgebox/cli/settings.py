"""`edgebox config`: the settings reference, printed from the declaration, so
that docs/configuration.md is regenerated, never edited by hand."""

from __future__ import annotations

import click

from edgebox import config as config_module


@click.group("config")
def config_group() -> None:
    """The settings in edgebox.toml: what each key does."""


@config_group.command("reference")
def config_reference() -> None:
    """Print the settings reference (Markdown): every key, its default, its
    range and its environment variable. Regenerate the docs with
    `edgebox config reference > docs/configuration.md`."""
    click.echo(config_module.render_reference(), nl=False)
