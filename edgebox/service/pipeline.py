"""The worker that moves documents received -> extracted -> triaged.

Each step is idempotent and each transition is one transaction, so a crash
between steps resumes where it stopped: documents left in `received` or
`extracted` are simply picked up again. Originals are read from the archive,
never from the inbox. Permanent extraction failures are quarantined with their
reason; transient ones are retried with a capped backoff.

A slow file (a long scan: minutes of OCR) is read in the extraction worker
process in the background, one at a time, while this thread reads the plain
text behind it and runs the LLM stage: an emergency typed after a scan is not
held back by its OCR. On 2 cores that is at most one tesseract beside
llama.cpp, never a second model. Until its text is written the document stays
`received`, so a kill mid-OCR only means reading it again.

A new bundle from the centre (a switch by the sync loop, a rollback from the
CLI) is taken between steps, never during one: its rules, taxonomy and
`[triage]` keys replace the engine's, which keeps its loaded LLM.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edgebox.config import Config
from edgebox.errors import ExtractError
from edgebox.intake.archive import write_quarantine_copy
from edgebox.intake.extract import Limits
from edgebox.intake.extract.timebox import PendingExtraction, TimeboxedExtractor
from edgebox.intake.ignore import inbox_files
from edgebox.intake.ingest import Ingestor
from edgebox.search.embed import Embedder, EmbeddingError
from edgebox.search.index import SearchIndex
from edgebox.service import bundles
from edgebox.service.step import Step, StepOutcome
from edgebox.store import DocState, Store
from edgebox.store.search import Chunk
from edgebox.triage.engine import TriageEngine, TriageResult

log = logging.getLogger(__name__)

ProgressCallback = Callable[[dict, TriageResult], None]
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0
READ_AHEAD = 50
"""Received documents looked at, oldest first, for one that can be read while
the worker process is busy with a slow one."""
READ_POLL_S = 0.2


def retry_delay_s(
    attempt: int, *, base: float = RETRY_BASE_S, cap: float = RETRY_CAP_S
) -> float:
    """Seconds before retry number `attempt` (1, 2, ...): doubling, capped."""
    return min(cap, base * 2 ** max(0, attempt - 1))


@dataclass
class PassReport:
    recorded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    triaged: int = 0


def default_embedder(config: Config) -> Embedder | None:
    """The configured embedding model, or None (logged) when it is not installed."""
    try:
        return Embedder(config.index.model, batch_size=config.index.batch_size)
    except EmbeddingError as exc:
        log.warning("search index disabled: %s", exc)
        return None


class Pipeline:
    """One store, one engine (loaded on first need), one step at a time."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        engine_loader: Callable[[], TriageEngine] | None = None,
        embedder_loader: Callable[[], Embedder | None] | None = None,
        triage: bool = True,
        clock: Callable[[], float] = time.time,
        stop: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.triage_enabled = triage
        self.clock = clock
        self.stop = stop
        """Set when the service stops: the model's answer or the slow
        extraction in progress is abandoned (`Cancelled`), and its document
        stays as it was, for the next start."""
        self._engine_loader = engine_loader or (lambda: TriageEngine(config))
        self._engine: TriageEngine | None = None
        self._embedder_loader = embedder_loader or (lambda: default_embedder(config))
        self._index: SearchIndex | None = None
        self._reading: tuple[dict, PendingExtraction] | None = None
        """The document being read in the worker process, and its reading."""
        self._bundle_seen = bundles.in_use(config.data_dir)
        """What `bundles/current` pointed at when `config` was last built."""
        if bundles.version_of(bundles.current_dir(config.data_dir)) != (
            config.bundle_version
        ):
            self._bundle_seen = ("", -1)  # switched since `config` was built
        self._engine_stale = False
        """The engine the loader builds predates the bundle now in use."""
        self.extractor = TimeboxedExtractor(
            Limits(
                max_bytes=config.ingest.max_bytes,
                max_pages=config.ingest.max_pages,
                timeout_s=config.ingest.extract_timeout_s,
                ocr_languages=config.ingest.ocr_languages,
            )
        )

    @property
    def engine(self) -> TriageEngine:
        if self._engine is None:
            self._engine = self._engine_loader()
            if self._engine_stale:
                self._engine = self._engine.with_config(self.config)
                self._engine_stale = False
        return self._engine

    def follow_bundle(self) -> bool:
        """Take the bundle now in use if it changed; True when it did. Called
        between steps, so that one document is triaged on one bundle."""
        seen = bundles.in_use(self.config.data_dir)
        if seen == self._bundle_seen:
            return False
        self._bundle_seen = seen  # read before the bundle: a later switch is seen
        self.config = bundles.applied(self.config)
        if self._engine is not None:
            self._engine = self._engine.with_config(self.config)
        else:
            self._engine_stale = True
        log.info(
            "now triaging on bundle %s (its rules, taxonomy and settings)",
            self.config.bundle_version or "none",
        )
        return True

    @property
    def index(self) -> SearchIndex | None:
        """The search index, or None when no embedding model can be loaded."""
        if self._index is None:
            embedder = self._embedder_loader()
            if embedder is None:
                return None
            self._index = SearchIndex(self.store, embedder, self.config.index)
        return self._index

    def close(self) -> None:
        # A file half-read stays received in the store: the next start reads it.
        self._reading = None
        self.extractor.close()

    def run_once(self, *, on_triaged: ProgressCallback | None = None) -> PassReport:
        """Take every file in the inbox now (no stability wait), then drain the work.

        For `edgebox process` and tests; the service uses the watcher instead.
        """
        report = PassReport()
        ingestor = Ingestor(self.config, self.store)
        for path in inbox_files(self.config.inbox_dir, self.config.ingest.ignore):
            outcome = ingestor.ingest(path)
            report.recorded += outcome.result == "recorded"
            report.duplicates += outcome.result == "duplicate"
            report.quarantined += outcome.result == "quarantined"
        while (step := self.step()) is not None:
            if step.outcome is StepOutcome.QUARANTINED:
                report.quarantined += 1
            elif step.outcome is StepOutcome.TRIAGED and step.result is not None:
                report.triaged += 1
                if on_triaged:
                    on_triaged(step.document, step.result)
        return report

    def step(self, *, block: bool = True) -> Step | None:
        """Do the next piece of work; None when there is nothing to do now.

        Reading comes first: each read document gets its fast (provisional)
        result at once, and the LLM takes the most urgent of them next. A file
        that needs the worker process (a PDF, a scan to OCR) is read there in
        the background, one at a time, while plain text behind it is read and
        the LLM stage goes on. With `block` False, a step that has only that
        file to wait for waits briefly and returns None (the service calls
        again; `edgebox process` waits)."""
        self.follow_bundle()
        while True:
            if self._reading is not None and self._reading[1].done():
                return self._finish_reading()
            doc = self._next_to_read()
            if doc is None:
                break
            if self._reading is None and not self._in_process(doc):
                self._reading = (doc, self.extractor.start(_original(doc)))
                continue
            return self.extract(doc)
        if self.triage_enabled:
            pending = self.store.llm_pending(limit=1)
            if pending:
                doc = pending[0]
                return Step(doc, StepOutcome.TRIAGED, self.triage(doc))
        if self._reading is None:
            return None
        if block or self._reading[1].wait(READ_POLL_S):
            return self._finish_reading()
        return None

    @property
    def reading(self) -> bool:
        """A file is being read in the background: call `step` again soon."""
        return self._reading is not None

    def _next_to_read(self) -> dict | None:
        """The oldest document to read now: due retries, then received ones,
        passing over those for the worker process while it is busy."""
        now = self.clock()
        due = self.store.due_for_retry(_iso(now), beyond=_iso(now + RETRY_CAP_S))
        received = self.store.documents_in_state(DocState.RECEIVED, limit=READ_AHEAD)
        busy = self._reading[0]["id"] if self._reading is not None else None
        for doc in (*due, *received):
            if doc["id"] == busy:
                continue
            if busy is None or self._in_process(doc):
                return doc
        return None

    def _in_process(self, doc: dict) -> bool:
        return self.extractor.in_process(_original(doc))

    def _finish_reading(self) -> Step:
        doc, pending = self._reading  # type: ignore[misc]
        self._reading = None
        # Read again: the row may have changed (a retry count) while it was read.
        return self.extract(self.store.document(doc["id"]) or doc, pending=pending)

    def extract(self, doc: dict, *, pending: PendingExtraction | None = None) -> Step:
        """received (or failed) -> extracted with its provisional result (the
        fast stage, in the same transaction), failed (retry later) or
        quarantined. `pending`: its reading, started earlier."""
        try:
            if pending is not None:
                extraction = pending.result(stop=self.stop)
            else:
                extraction = self.extractor.extract(_original(doc), stop=self.stop)
        except ExtractError as exc:
            return Step(doc, self._failed(doc, exc))
        unread = [page.to_json() for page in extraction.unread_pages]
        fast = None
        if self.triage_enabled:
            fast = self.engine.fast(extraction.text, unread_pages=unread)
        with self.store.atomic():
            self.store.set_state(
                doc["id"], DocState.EXTRACTED, text=extraction.text, unread_pages=unread
            )
            if fast is not None:
                self.store.record_ai_result(doc["id"], fast.to_record())
        return Step(doc, StepOutcome.EXTRACTED, fast)

    def triage(self, doc: dict) -> TriageResult:
        """The LLM stage: extracted -> triaged (or reviewed kept); result,
        outbox row and audit in one transaction."""
        result = self.engine.triage(
            doc["text"] or "",
            cancel=self.stop,
            unread_pages=json.loads(doc.get("unread_pages") or "[]"),
        )
        record = result.to_record()
        self.store.record_ai_result(doc["id"], record, chunks=self._embed(doc, record))
        return result

    def _embed(self, doc: dict, record: dict) -> tuple[str, list[Chunk]] | None:
        index = self.index
        if index is None:
            return None
        try:
            return index.embed_document(
                file_name=doc["file_name"], text=doc["text"] or "", triage=record
            )
        except EmbeddingError as exc:
            # The triage result matters more than its search vectors: keep it,
            # and let `edgebox reindex` add the vectors later.
            log.warning("document %s not embedded: %s", doc["id"], exc)
            return None

    def quarantine(self, doc: dict, *, code: str, message: str) -> None:
        """Quarantine a document, and the copies of it recorded meanwhile (each
        with its own reason file where staff look)."""
        copies = self.store.set_state(
            doc["id"], DocState.QUARANTINED, error_code=code, error_message=message
        )
        for quarantined in (doc, *(self.store.document(i) for i in copies)):
            archived = quarantined["archive_path"]
            reason = quarantined["error_message"] if quarantined is not doc else message
            write_quarantine_copy(
                self.config.quarantine_dir,
                doc_id=quarantined["id"],
                file_name=quarantined["file_name"],
                original=Path(archived) if archived else None,
                reason=f"{reason}\n(reason code: {code};"
                f" document id {quarantined['id']})",
            )

    def _failed(self, doc: dict, exc: ExtractError) -> StepOutcome:
        # Name the file as staff dropped it, not its archive path.
        message = exc.message.replace(str(doc["archive_path"]), doc["file_name"])
        attempts = doc["attempts"] + 1
        if exc.permanent or attempts >= self.config.ingest.max_attempts:
            self.quarantine(doc, code=exc.code, message=message)
            return StepOutcome.QUARANTINED
        retry_at = _iso(self.clock() + retry_delay_s(attempts))
        self.store.mark_failed(
            doc["id"], error_code=exc.code, error_message=message, retry_at=retry_at
        )
        return StepOutcome.FAILED


def _original(doc: dict) -> Path:
    """Originals are read from the archive, never from the inbox."""
    return Path(doc["archive_path"] or doc["source_path"])


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds")
