"""When to push: once (`edgebox sync --once`) or periodically (`edgebox serve`).

Clinics are online for minutes a day. While the last push succeeded, the loop
waits the configured interval; after a failure it probes `GET /v1/health` on a
short, growing, jittered schedule, and pushes the moment a probe connects,
instead of sleeping out the whole interval and missing the window.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from edgebox.config import Config
from edgebox.errors import SyncError
from edgebox.store import Store
from edgebox.sync.backoff import backoff_delay
from edgebox.sync.client import PushReport, SyncClient, missing_settings

log = logging.getLogger(__name__)

PROBE_BASE_S = 5.0
PROBE_CAP_S = 120.0
TROUBLE_CAP_S = 3600.0
"""The longest pause between pushes to a server that answers its health
check but fails every batch (its database disk full, say)."""


def why_off(settings: Config) -> str:
    """Why sync cannot run with these settings, empty when it can. A token or
    URL that cannot work empties the url: its own reason comes first, or the
    volunteer is told to set a url that is set."""
    return settings.sync_off or missing_settings(settings.sync)


def push_once(settings: Config, **options: Any) -> PushReport:
    """One run over the box's store (what `edgebox sync --once` does)."""
    reason = why_off(settings)
    if reason:
        raise SyncError(f"sync is off: {reason}")
    with (
        Store(settings.db_path) as store,
        SyncClient(
            store,
            settings.sync,
            model_path=settings.model_path,
            data_dir=settings.data_dir,
            **options,
        ) as client,
    ):
        return client.push()


class SyncLoop:
    """Run `run()` in a thread; `wake()` asks for a push now, `stop()` ends it."""

    def __init__(
        self,
        settings: Config,
        *,
        on_report: Callable[[PushReport], None] | None = None,
        probe_base_s: float = PROBE_BASE_S,
        probe_cap_s: float = PROBE_CAP_S,
        **client_options: Any,
    ) -> None:
        self.settings = settings
        self.on_report = on_report
        self.probe_base_s = probe_base_s
        self.probe_cap_s = probe_cap_s
        self.client_options = client_options
        self._wake = threading.Event()
        self._stop = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        """Push, wait, repeat, until stop(); never raises for network trouble."""
        reason = why_off(self.settings)
        if reason:
            # No url at all is a box that does not sync, by choice.
            chosen = not self.settings.sync.url and not self.settings.sync_off
            log.log(
                logging.INFO if chosen else logging.WARNING, "sync is off: %s", reason
            )
            return
        with Store(self.settings.db_path) as store:
            try:
                client = SyncClient(
                    store,
                    self.settings.sync,
                    model_path=self.settings.model_path,
                    data_dir=self.settings.data_dir,
                    stop=self._stop,
                    **self.client_options,
                )
            except SyncError as exc:  # SSL_CERT_FILE unusable: say so once, stop
                log.warning("%s", exc)
                return
            with client:
                self._loop(client)

    def _loop(self, client: SyncClient) -> None:
        interval = max(1.0, self.settings.sync.interval_s)
        online, failures = True, 0
        probed = False  # the health check passed just before this push
        troubled = 0  # pushes failed in a row although the health check passed
        while not self._stop.is_set():
            server_trouble = False
            if online:
                report = client.push()
                _log_bundle(report.bundle)
                if self.on_report is not None:
                    self.on_report(report)
                online = report.ok
                server_trouble = probed and not online
                troubled = 0 if online else troubled + int(server_trouble)
                probed = False
            elif client.probe():
                online = probed = True
                continue  # the link is back: push now, not at the next tick
            if online:
                failures, wait = 0, interval
            elif server_trouble:
                # The link works and the server answers, yet the batch fails:
                # sending it again every probe would pay for the same upload
                # all day on a metered link. Pushes back off to hours.
                wait = backoff_delay(
                    troubled - 1,
                    base_s=interval,
                    cap_s=TROUBLE_CAP_S,
                    jitter=0.5 + random.random() / 2,
                )
            else:
                wait = self._retry_wait(failures, interval)
                failures += 1
            self._pause(wait)

    def _pause(self, seconds: float) -> None:
        """Wait, cut short by `wake()` or `stop()`."""
        self._wake.wait(seconds)
        self._wake.clear()

    def _retry_wait(self, failures: int, interval: float) -> float:
        # Growing waits: a box whose token was revoked does not hammer the server.
        return backoff_delay(
            failures,
            base_s=self.probe_base_s,
            cap_s=min(interval, self.probe_cap_s),
            jitter=0.5 + random.random() / 2,
        )


def _log_bundle(said: str | None) -> None:
    """What the bundle check did, when it did something."""
    if said:
        # A running service takes it before its next document (Pipeline).
        log.info("%s", said)
