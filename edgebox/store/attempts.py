"""Failed reads of inbox files, counted in the store (mixed into Store).

The count outlives the process that tried: the service after a restart and
each one-shot `edgebox process` go on from the last try, so a file that never
reads reaches `[ingest] max_attempts` and is quarantined instead of being
tried for ever, one fresh count per run.
"""

from __future__ import annotations

from edgebox.store.base import StoreBase
from edgebox.store.schema import now


class AttemptQueries(StoreBase):
    """Mixed into `Store`."""

    def count_file_attempt(self, relative_path: str, identity: str, error: str) -> int:
        """Count one more failed read of this inbox file; its tries so far.
        Another file under the same path (another identity) starts at one."""
        with self.atomic():
            row = self.db.execute(
                "SELECT identity, tries FROM file_attempts WHERE relative_path = ?",
                [relative_path],
            ).fetchone()
            tries = row[1] + 1 if row and row[0] == identity else 1
            self.db.execute(
                "INSERT OR REPLACE INTO file_attempts"
                " (relative_path, identity, tries, last_error, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [relative_path, identity, tries, error, now()],
            )
        return tries

    def forget_file_attempts(self, relative_path: str) -> None:
        """The file was read or quarantined: nothing left to count."""
        with self.atomic():
            self.db.execute(
                "DELETE FROM file_attempts WHERE relative_path = ?", [relative_path]
            )
