"""The `edgebox` command: the only part that wires the core to the terminal
UI (`edgebox.tui`) and to sync (`edgebox.sync`).

`commands` holds the group and the box's commands, `sync` the `edgebox sync`
and `edgebox central` commands, `runner` how a group runs (errors as one line,
files kept private), `render` the plain terminal output; `launch` starts the
service beside the UI (`edgebox run`), `demo` writes sample documents and
`doctor` says what the box has. Nothing is imported here: `python -m
edgebox.cli.sync` and the central server start without the rest.
"""
