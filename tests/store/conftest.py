"""The store folder: the box's SQLite store and what reads or rewrites it
(queries and migrations, retention, backup and restore, the hand-over report,
named reviewers, the search index). Always a real SQLite file.

Fixtures shared with other folders (the seeded UI store, the embedder) are in
tests/conftest.py."""
