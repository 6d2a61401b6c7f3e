"""Intake: from a file dropped into the inbox to a recorded document and its
text, each file taken exactly once and never lost.

`watcher` finds files (events, scans), `stability` says when one is written
to the end, `ignore` leaves out OS and editor junk, `ingest` hashes, archives,
records and clears it, `archive` keeps the originals and the quarantine, and
`extract/` reads the text of each format (in a worker process, time-boxed).
"""
