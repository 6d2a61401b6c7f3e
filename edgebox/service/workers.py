"""The service's two working threads: intake takes files out of the inbox (the
watcher, then ingest), the worker moves documents through the pipeline.

Each has its own store connection: ingestion (fast: hash, archive, record)
never waits for triage (seconds per document), and the worker never waits
for a slow scanner. `run()` returns when asked to stop or, with
`until_idle`, once the inbox is empty and nothing is left to do.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edgebox.config import Config
from edgebox.errors import Cancelled, disk_full
from edgebox.intake.archive import log_name, sweep_incoming
from edgebox.intake.ingest import Ingestor, Outcome, Stuck
from edgebox.intake.watcher import InboxWatcher
from edgebox.service.lock import InstanceLock
from edgebox.service.pipeline import Pipeline
from edgebox.service.step import Step, StepOutcome
from edgebox.store import Store
from edgebox.triage.engine import TriageEngine

log = logging.getLogger(__name__)
POLL_S = 0.2
LOCK_NAME = "service.lock"
DISK_FULL_WAIT_S = 60.0
"""How long the service waits before trying again on a full disk."""


@dataclass
class Progress:
    started: float = field(default_factory=time.monotonic)
    ingested: int = 0
    triaged: int = 0
    failed: int = 0
    quarantined: int = 0
    waiting: int = 0
    busy_s: float = 0.0
    """Seconds the worker spent on documents it triaged (not idle time)."""

    @property
    def docs_per_s(self) -> float:
        """Triage throughput while there is work: an idle night does not
        drag it down."""
        return self.triaged / self.busy_s if self.busy_s > 0 else 0.0

    def line(self) -> str:
        return (
            f"in inbox {self.waiting} | done {self.triaged} | failed {self.failed} | "
            f"quarantined {self.quarantined} | {self.docs_per_s:.2f} docs/s"
        )


class Workers:
    """The intake and worker threads on one workspace, under its lock."""

    def __init__(
        self,
        config: Config,
        *,
        triage: bool = True,
        engine_loader: Callable[[], TriageEngine] | None = None,
        on_result: Callable[[Step], None] | None = None,
    ) -> None:
        self.config = config
        self.triage = triage
        self.engine_loader = engine_loader
        self.on_result = on_result
        self.progress = Progress()
        self.stop_event = threading.Event()
        self._work = threading.Event()
        self._idle = {"ingest": False, "worker": False}
        self._stuck: dict[Path, Stuck] = {}
        """Recorded inbox files that cannot be removed: nothing left to do."""
        self.scanned = threading.Event()
        """Set once the watcher is listening and the first scan is done: files
        dropped after it are found by events (and rescans)."""
        self._errors: list[BaseException] = []
        self.disk_full_wait_s = DISK_FULL_WAIT_S

    def run(self, *, until_idle: bool = False) -> Progress:
        """Run until stop_event (or idle); raises ServiceRunning when another
        service already works on this workspace."""
        with self.lock():
            return self.run_locked(until_idle=until_idle)

    def lock(self) -> InstanceLock:
        """The workspace lock; a caller that starts threads of its own around
        the service takes it first, so that a refused second service touches
        nothing (not even the running one's heartbeat). Whoever takes it
        first removes the archive copies a killed process left half-made: only
        the lock's holder copies into the archive, so none is under way."""
        return InstanceLock(
            self.config.data_dir / LOCK_NAME, on_acquire=self._sweep_archive
        )

    def _sweep_archive(self) -> None:
        for path in sweep_incoming(self.config.archive_dir):
            log.warning(
                "removed %s: an unfinished archive copy, left by a process"
                " stopped mid-copy (its inbox file is taken again)",
                log_name(path.name),
            )

    def run_locked(self, *, until_idle: bool = False) -> Progress:
        """`run` for a caller that already holds `lock()`."""
        # Migrate and switch to WAL once, before two connections race to do it.
        Store(self.config.db_path).close()
        threads = [
            threading.Thread(
                target=self._guard, args=(self._ingest_loop,), name="ingest"
            ),
            threading.Thread(
                target=self._guard, args=(self._worker_loop,), name="worker"
            ),
        ]
        for thread in threads:
            thread.start()
        try:
            while not self.stop_event.wait(POLL_S):
                if until_idle and all(self._idle.values()) and self._nothing_left():
                    break
                if self._errors:
                    break
        finally:
            self.stop_event.set()
            self._work.set()
            for thread in threads:
                thread.join()
        if self._errors:
            raise self._errors[0]
        return self.progress

    def _nothing_left(self) -> bool:
        """Checked against the store and the folder, not only the threads' flags."""
        from edgebox.intake.ignore import inbox_files
        from edgebox.store import DocState

        files = inbox_files(self.config.inbox_dir, self.config.ingest.ignore)
        if any(path not in self._stuck for path in files):
            return False
        with Store(self.config.db_path) as store:
            if store.documents_in_state(DocState.RECEIVED, limit=1):
                return False
            return not (self.triage and store.llm_pending(limit=1))

    def _guard(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        except BaseException as exc:  # reported by run(), on the main thread
            self._errors.append(exc)
            self.stop_event.set()

    def _ingest_loop(self) -> None:
        ingest = self.config.ingest
        watcher = InboxWatcher(
            self.config.inbox_dir,
            quiet_s=ingest.quiet_s,
            rescan_s=ingest.rescan_s,
            incomplete_wait_s=ingest.incomplete_wait_s,
            ignore=ingest.ignore,
        )
        watcher.start()
        try:
            with Store(self.config.db_path) as store:
                ingestor = Ingestor(self.config, store, stuck=self._stuck)
                while not self.stop_event.is_set():
                    ready = watcher.poll()
                    for index, path in enumerate(ready):
                        try:
                            self._count(ingestor.ingest(path))
                        except Exception as exc:
                            if not disk_full(exc):
                                raise
                            for untaken in ready[index:]:
                                watcher.later(untaken)
                            self._wait_for_space("ingest", exc)
                            break
                        watcher.done(path)
                    if ready:
                        self._work.set()
                    self.progress.waiting = watcher.waiting()
                    # A file the inbox will not let go is not work to wait for.
                    waiting = [p for p in watcher.tracked() if p not in self._stuck]
                    self._idle["ingest"] = not ready and not waiting
                    self.scanned.set()
                    self.stop_event.wait(POLL_S)
        finally:
            watcher.stop()

    def _worker_loop(self) -> None:
        with Store(self.config.db_path) as store:
            pipeline = Pipeline(
                self.config,
                store,
                engine_loader=self.engine_loader,
                triage=self.triage,
                stop=self.stop_event,
            )
            try:
                while not self.stop_event.is_set():
                    began = time.monotonic()
                    try:
                        step = pipeline.step(block=False)
                    except Cancelled:
                        log.info("stopped with a document in hand: it is"
                                 " taken again at the next start")  # fmt: skip
                        return
                    except Exception as exc:
                        if not disk_full(exc):
                            raise
                        self._wait_for_space("worker", exc)
                        continue  # the step's transaction was rolled back
                    if step is None:
                        # A scan being read is not idleness: look again soon.
                        self._idle["worker"] = not pipeline.reading
                        self._work.wait(POLL_S if pipeline.reading else 1.0)
                        self._work.clear()
                        continue
                    self._idle["worker"] = False
                    self._count_step(step, time.monotonic() - began)
                    if self.on_result is not None:
                        self.on_result(step)
            finally:
                pipeline.close()

    def _wait_for_space(self, loop: str, exc: BaseException) -> None:
        """Say so in one line, naming where and how much is free, then wait:
        nothing is lost (files stay in the inbox, steps are rolled back)."""
        free = shutil.disk_usage(self.config.data_dir).free
        log.error(
            "%s: the disk is full (%s; %.0f MB free under %s); trying again in"
            " %.0f s. Free some space: nothing is lost meanwhile.",
            loop, " ".join(str(exc).split()), free / 1e6, self.config.data_dir,
            self.disk_full_wait_s,
        )  # fmt: skip
        self.stop_event.wait(self.disk_full_wait_s)

    def _count(self, outcome: Outcome) -> None:
        if outcome.result in ("recorded", "duplicate"):
            self.progress.ingested += 1
        elif outcome.result == "quarantined":
            self.progress.quarantined += 1
        self._idle["worker"] = (
            False if outcome.result == "recorded" else self._idle["worker"]
        )

    def _count_step(self, step: Step, took_s: float) -> None:
        if step.outcome is StepOutcome.QUARANTINED:
            self.progress.quarantined += 1
        elif step.outcome is StepOutcome.FAILED:
            self.progress.failed += 1
        else:  # time spent reading or triaging: what docs/s measures
            self.progress.busy_s += took_s
            self.progress.triaged += step.outcome is StepOutcome.TRIAGED
