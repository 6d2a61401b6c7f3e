"""`python -m edgebox` runs the CLI."""

from edgebox.cli import main

main()
