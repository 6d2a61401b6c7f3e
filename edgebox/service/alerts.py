"""Runs the NGO's alert command once per emergency, beside triage.

The command is local (an SMS modem script, a mail relay); the service runs it
in its own thread with a timeout, so a hung modem never holds back triage. It
gets the document id, urgency and category as arguments and nothing else: no
document text and no names leave through it. A failure is logged (without the
command's output, which could echo anything) and run again later, up to
`[alerts] attempts` times; every run is in the audit.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

from edgebox.config import AlertsConfig, Config
from edgebox.store import Store
from edgebox.store.alerts import DueAlert, due_alerts, record_alert

log = logging.getLogger(__name__)

CHECK_S = 2.0
"""Seconds between looks for a new emergency when nothing woke the loop."""


class AlertSender:
    """A companion loop of the service (see Supervisor)."""

    def __init__(self, config: Config, *, check_s: float = CHECK_S) -> None:
        self.config = config
        self.settings: AlertsConfig = config.alerts
        self.check_s = check_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._one_at_a_time = threading.Lock()
        """The loop and a last round at an --until-idle stop never ring the
        same alert twice."""

    def wake(self) -> None:
        """A new result: look now, not at the next check."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a locked store: try at the next check
                log.exception("alerts: the check failed; trying again")
            self._wake.wait(self.check_s)
            self._wake.clear()

    def run_once(self, *, at: datetime | None = None) -> list[tuple[int, str]]:
        """Ring every alert that is due; returns (document id, new state)."""
        with self._one_at_a_time:
            return self._run_once(at or datetime.now(UTC))

    def _run_once(self, moment: datetime) -> list[tuple[int, str]]:
        since = moment - timedelta(hours=self.settings.within_hours)
        done: list[tuple[int, str]] = []
        with Store(self.config.db_path) as store:
            for alert in due_alerts(store, received_since=_iso(since), at=_iso(moment)):
                if self._stop.is_set():
                    break
                error = self._ring(alert)
                retry = moment + timedelta(seconds=self.settings.retry_s)
                state = record_alert(
                    store,
                    alert,
                    error=error,
                    retry_at=_iso(retry),
                    max_attempts=self.settings.attempts,
                )
                if state == "failed":
                    log.error(
                        "alerts: gave up on document %d after %d tries: %s",
                        alert.document_id,
                        alert.attempts + 1,
                        error,
                    )
                elif error is not None:
                    log.warning(
                        "alerts: document %d: %s; trying again in %.0f s",
                        alert.document_id,
                        error,
                        self.settings.retry_s,
                    )
                done.append((alert.document_id, state))
        return done

    def _ring(self, alert: DueAlert) -> str | None:
        """Run the command once; None when it succeeded, else why not."""
        argv = [
            *shlex.split(self.settings.command),
            str(alert.document_id),
            alert.urgency,
            alert.category,
        ]
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            return f"the alert command could not start ({exc.strerror or exc})"
        deadline = time.monotonic() + self.settings.timeout_s
        while process.poll() is None:
            if self._stop.is_set() or time.monotonic() >= deadline:
                process.kill()
                process.wait()
                if self._stop.is_set():
                    return "the service stopped while the alert command ran"
                return f"the alert command ran over {self.settings.timeout_s:g} s"
            self._stop.wait(0.1)
        if process.returncode != 0:
            return f"the alert command exited with {process.returncode}"
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
