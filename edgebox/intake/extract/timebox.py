"""Extraction in a worker process that is killed when it overruns.

A damaged PDF can send a parser into a loop, and a thread cannot be stopped:
a process can. Plain text and HTML are read in-process (fast and safe); the
worker is started on first need and replaced after a kill.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.pool import Pool
from pathlib import Path

from edgebox.errors import Cancelled, ExtractError
from edgebox.intake.extract import Extraction, Limits, extract
from edgebox.intake.extract.sniff import sniff

_IN_PROCESS = {"text", "html", "binary"}
STOP_POLL_S = 0.2


class TimeboxedExtractor:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._pool: Pool | None = None

    def extract(self, path: Path, *, stop: threading.Event | None = None) -> Extraction:
        """The file's text and unread pages; raises `Cancelled` when `stop` is
        set meanwhile (a scanned PDF's OCR can take minutes: a stopping service
        kills it)."""
        if self._kind(path) in _IN_PROCESS:
            return extract(path, self.limits)
        pending = self._worker().apply_async(extract, (path, self.limits))
        deadline = time.monotonic() + self.limits.timeout_s + 10
        while True:
            if stop is not None and stop.is_set():
                self.close()
                raise Cancelled(f"{path}: stopped while reading it")
            pending.wait(min(STOP_POLL_S, max(0.0, deadline - time.monotonic())))
            if pending.ready():
                return pending.get()
            if time.monotonic() >= deadline:
                self.close()
                raise ExtractError(
                    f"{path}: reading took longer than {self.limits.timeout_s:.0f} s",
                    code="timeout",
                    permanent=False,
                )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def _worker(self) -> Pool:
        if self._pool is None:
            # spawn: a fresh interpreter, safe beside the service's threads.
            self._pool = multiprocessing.get_context("spawn").Pool(1)
        return self._pool

    def _kind(self, path: Path) -> str:
        try:
            with path.open("rb") as handle:
                return sniff(handle.read(8192), path.suffix)
        except OSError:
            return "text"  # extract_text reports the read error properly
