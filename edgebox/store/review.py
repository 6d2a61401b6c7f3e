"""Queries the terminal UI needs: filtered queue pages, review and undo.

Kept apart from `core` so that the UI's needs grow in one place; all SQL still
lives in the store package.
"""

from __future__ import annotations


class ReviewQueries:
    """Mixed into `Store`."""
