"""`python -m edgebox` runs the CLI."""

from edgebox.cli.commands import main

main()
