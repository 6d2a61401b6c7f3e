"""`edgebox serve`: the service as a box runs it for months, unattended.

Around the intake and worker threads (`Workers`) it keeps three things going:
- a heartbeat in the store (model, GPU or CPU, docs/s), so that the UI and
  `edgebox status`, separate processes, can show them without loading a model;
- retraining of the learned models once staff have reviewed enough new
  documents (reviews arrive from the UI, another process, so it polls);
- the NGO's alert command, once per emergency (`[alerts] command`), in a
  thread of its own so that a hung modem never holds back triage;
- companion loops that the CLI plugs in (the sync loop): the core never
  imports `sync`, it only runs what it is given.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from edgebox.config import Config
from edgebox.service.alerts import AlertSender
from edgebox.service.heartbeat import heartbeat_age_s, service_running
from edgebox.service.step import Step
from edgebox.service.workers import Progress, Workers
from edgebox.store import Store
from edgebox.store.schema import now
from edgebox.triage.engine import TriageEngine

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0
"""Seconds between heartbeats (each is a small durable write: an SD card
lasts longer with fewer)."""
RETRAIN_CHECK_S = 60.0
RETENTION_CHECK_S = 3600.0
"""Seconds between retention passes: retention is counted in days."""


class Companion(Protocol):
    """A loop run beside the service: `run()` blocks until `stop()`."""

    def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Retrainer:
    """Retrains the learned models when enough new reviews have arrived."""

    config: Config
    _seen: tuple[object, ...] | None = None
    """Staff activity (count, last audit id) and the bundle in use at the last
    check: unchanged means nothing to do, without reading the reviewed texts
    or the saved models."""

    def check(self) -> bool:
        """One check; True when a model was retrained (and saved for the worker,
        which reloads a model file when it changes)."""
        from edgebox.learn.choice import compare_if_due, comparison_due
        from edgebox.learn.classifiers import retrain_if_due
        from edgebox.service.bundles import applied, in_use

        data_dir = self.config.data_dir
        with Store(self.config.db_path) as store:
            # A switch may change min_examples or retrain_after: look again.
            seen = (*store.staff_activity(), in_use(data_dir))
            # A new bundle from the centre is compared without a new review.
            if seen == self._seen and not comparison_due(data_dir):
                return False
            examples = store.training_examples()
        # The bundle in use now (it may have switched since the start): its
        # [triage] keys and taxonomy govern retraining as they govern triage.
        config = applied(self.config)
        triage = config.triage
        retrained = retrain_if_due(
            examples,
            data_dir,
            min_examples=triage.min_examples,
            min_new=triage.retrain_after,
            emergency_recall=triage.emergency_recall,
            categories=config.categories,
        )
        # Own against central, where both exist: which one triages.
        compare_if_due(
            examples,
            data_dir,
            min_examples=triage.min_examples,
            emergency_recall_target=triage.emergency_recall,
            categories=config.categories,
        )
        self._seen = seen  # only once the check went through: a failure retries
        if retrained:
            log.info("retrained the learned models on %d reviews", len(examples))
        return retrained


class Supervisor:
    """Runs the workers, the heartbeat, retraining and the companion loops, and
    stops them all together."""

    def __init__(
        self,
        config: Config,
        *,
        companions: Sequence[tuple[str, Companion]] = (),
        on_result: Callable[[Step], None] | None = None,
        engine_loader: Callable[[], TriageEngine] | None = None,
        triage: bool = True,
        heartbeat_s: float = HEARTBEAT_S,
        retrain_check_s: float = RETRAIN_CHECK_S,
    ) -> None:
        self.config = config
        self.companions = list(companions)
        self.heartbeat_s = heartbeat_s
        self.retrain_check_s = retrain_check_s
        self.retrainer = Retrainer(config)
        self.engine: TriageEngine | None = None
        self._load_engine = engine_loader or (lambda: TriageEngine(config))
        self._on_result = on_result
        self._beat = threading.Event()
        self.alerts = AlertSender(config) if config.alerts.command else None
        self.workers = Workers(
            config, engine_loader=self._engine, on_result=self._result, triage=triage
        )
        self.started_at = now()

    @property
    def progress(self) -> Progress:
        return self.workers.progress

    @property
    def stop_event(self) -> threading.Event:
        return self.workers.stop_event

    def stop(self) -> None:
        self.workers.stop_event.set()
        self._beat.set()

    def stop_from_signal(self) -> None:
        """`stop` for a signal handler. The handler runs on the main thread,
        perhaps while that thread holds the stop event's lock inside
        `Event.wait`: setting the event there would wait for itself for ever
        (a SIGTERM hung the service, 1 stop in 14). A thread of its own sets it
        once the main thread lets go."""
        threading.Thread(target=self.stop, name="stop", daemon=True).start()

    def run(self, *, until_idle: bool = False) -> Progress:
        """Run until stopped (or idle); companions stop with the service.

        The workspace lock comes first: a second `serve` is refused before it
        starts a companion or writes a heartbeat over the running service's.
        """
        with self.workers.lock():
            return self._run_locked(until_idle=until_idle)

    def _run_locked(self, *, until_idle: bool) -> Progress:
        for notice in self.config.notices:
            log.warning("%s", notice)
        # Migrate and switch to WAL before several connections race to do it.
        Store(self.config.db_path).close()
        loops: list[tuple[str, Callable[[], None]]] = [
            ("heartbeat", self._heartbeat_loop),
            ("retrain", self._retrain_loop),
            ("retention", self._retention_loop),
        ]
        if self.alerts is not None:
            loops.append(("alerts", self.alerts.run))
        loops += [(name, companion.run) for name, companion in self.companions]
        threads = [
            threading.Thread(target=self._guard, args=(name, loop), name=name)
            for name, loop in loops
        ]
        for thread in threads:
            thread.start()
        try:
            return self.workers.run_locked(until_idle=until_idle)
        finally:
            if until_idle:
                self._last_alerts()
            self.stop()
            if self.alerts is not None:
                self.alerts.stop()
            for _, companion in self.companions:
                companion.stop()
            for thread in threads:
                thread.join()
            try:
                self.write_heartbeat(state="stopped")
            except (sqlite3.Error, OSError) as exc:  # a full disk: keep the cause
                log.warning("could not record the stop: %s", exc)

    def _last_alerts(self) -> None:
        """Idle means done: the emergencies of this run ring before it ends."""
        if self.alerts is None:
            return
        try:
            self.alerts.run_once()
        except Exception:
            log.exception("alerts: the last round failed")

    def _result(self, step: Step) -> None:
        self._beat.set()  # the UI shows the new figures now, not at the next beat
        if self.alerts is not None:
            self.alerts.wake()
        if self._on_result is not None:
            self._on_result(step)

    def _engine(self) -> TriageEngine:
        self.engine = self._load_engine()
        self.write_heartbeat()
        return self.engine

    def _guard(self, name: str, loop: Callable[[], None]) -> None:
        # A companion's failure is logged, never a reason to stop triage.
        try:
            loop()
        except Exception:
            log.exception("the %s loop stopped on an error", name)

    def _heartbeat_loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.write_heartbeat()
            except Exception as exc:  # a locked store: try again next beat
                log.warning("could not write the heartbeat: %s", exc)
            self._beat.wait(self.heartbeat_s)
            self._beat.clear()

    def _retrain_loop(self) -> None:
        while not self.stop_event.wait(self.retrain_check_s):
            try:
                self.retrainer.check()
            except Exception:
                log.exception("retraining failed; the current models stay in use")

    def _retention_loop(self) -> None:
        from edgebox.service.retention import run_retention

        while True:  # a pass at start, even when asked to stop at once
            try:
                with Store(self.config.db_path) as store:
                    run_retention(self.config, store)
            except Exception:
                log.exception("the retention pass failed; it is tried again later")
            if self.stop_event.wait(RETENTION_CHECK_S):
                return

    def write_heartbeat(self, *, state: str = "running") -> None:
        with Store(self.config.db_path) as store:
            store.update_service_state(self.facts(state))

    def facts(self, state: str) -> dict[str, Any]:
        """What the service says about itself (keys the UI and status read)."""
        progress = self.progress
        facts: dict[str, Any] = {
            "state": state,
            "started_at": self.started_at,
            "heartbeat_at": now(),
            "model": self.config.model_path.name,
            "model_sha256": "",
            "device": "loading" if self.workers.triage else "none",
            "gpu_layers": "",
            "docs_per_s": f"{progress.docs_per_s:.3f}",
            "triaged": progress.triaged,
            "waiting": progress.waiting,
        }
        if self.engine is not None:
            model = self.engine.model
            facts |= {
                "model": model.name,
                "model_sha256": model.sha256,
                "device": "GPU" if model.gpu_layers else "CPU",
                "gpu_layers": model.gpu_layers,
            }
        return facts


def service_report(state: dict[str, str]) -> dict[str, Any]:
    """The service's facts plus whether it is alive (a fresh heartbeat)."""
    age = heartbeat_age_s(state)
    return {
        **state,
        "running": service_running(state),
        "heartbeat_age_s": None if age is None else round(age, 1),
    }
