"""The tui folder: the terminal UI under Textual's Pilot at 80x24 (queue,
document, review, inbox, search, status, bad input, escalation), its
snapshots (__snapshots__/, keyed by module) and a real tmux terminal.

The seeded store (`settings`, `seeded`, `utc`) is in tests/conftest.py,
because UI tests in tests/triage and tests/store use it too; the helpers that
drive the app are in tests/support/tui.py."""
