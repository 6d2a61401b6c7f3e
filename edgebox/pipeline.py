"""The worker that moves documents received -> extracted -> triaged.

Each step is idempotent and each transition is one transaction, so a crash
between steps resumes where it stopped: documents left in `received` or
`extracted` are simply picked up again on the next pass. This first version
takes the files found in the inbox once (`edgebox process`); the ingestion
issue adds the watcher, the archive and the quarantine folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgebox.config import Config
from edgebox.errors import ExtractError
from edgebox.extract import extract_text
from edgebox.manifest import sha256_file
from edgebox.store import DocState, Store
from edgebox.triage import TriageEngine, TriageResult

ProgressCallback = Callable[[dict, TriageResult], None]


@dataclass
class PassReport:
    recorded: int = 0
    quarantined: int = 0
    triaged: int = 0


def inbox_files(inbox: Path) -> list[Path]:
    """Regular, visible files in the inbox and its subfolders, in a stable order."""
    if not inbox.is_dir():
        return []
    return sorted(
        path
        for path in inbox.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(inbox).parts)
    )


class Pipeline:
    """One store, one engine (loaded on first need), one pass at a time."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        engine_loader: Callable[[], TriageEngine] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._engine_loader = engine_loader or (lambda: TriageEngine(config))
        self._engine: TriageEngine | None = None

    @property
    def engine(self) -> TriageEngine:
        if self._engine is None:
            self._engine = self._engine_loader()
        return self._engine

    def run_once(self, *, on_triaged: ProgressCallback | None = None) -> PassReport:
        """Record new inbox files, extract their text, triage them."""
        report = PassReport()
        for path in inbox_files(self.config.inbox_dir):
            if self.record(path) is not None:
                report.recorded += 1
        for doc in self.store.documents_in_state(DocState.RECEIVED):
            if not self.extract(doc):
                report.quarantined += 1
        for doc in self.store.documents_in_state(DocState.EXTRACTED):
            result = self.triage(doc)
            report.triaged += 1
            if on_triaged:
                on_triaged(doc, result)
        return report

    def record(self, path: Path) -> int | None:
        """Record a file once; None when the same content is already recorded."""
        digest = sha256_file(path)
        if self.store.find_by_sha256(digest) is not None:
            return None
        return self.store.add_document(
            file_name=path.name,
            source_path=str(path),
            sha256=digest,
            size=path.stat().st_size,
        )

    def extract(self, doc: dict) -> bool:
        """received -> extracted, or quarantined with the reason."""
        try:
            text = extract_text(Path(doc["source_path"]))
        except ExtractError as exc:
            self.store.set_state(
                doc["id"],
                DocState.QUARANTINED,
                error_code=exc.code,
                error_message=str(exc),
            )
            return False
        self.store.set_state(doc["id"], DocState.EXTRACTED, text=text)
        return True

    def triage(self, doc: dict) -> TriageResult:
        """extracted -> triaged; result, outbox row and audit in one transaction."""
        result = self.engine.triage(doc["text"] or "")
        self.store.record_triage(doc["id"], result.to_record())
        return result
