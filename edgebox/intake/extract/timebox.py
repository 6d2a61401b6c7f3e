"""Extraction in a worker process that is killed when it overruns.

A damaged PDF can send a parser into a loop, and a thread cannot be stopped:
a process can. Plain text and HTML are read in-process (fast and safe); the
worker is started on first need and replaced after a kill.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.pool import AsyncResult, Pool
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
        if self.in_process(path):
            return extract(path, self.limits)
        return self.start(path).result(stop=stop)

    def in_process(self, path: Path) -> bool:
        """Whether the file is read here at once (plain text, HTML): the rest
        (PDF, images, office files, perhaps OCR) goes to the worker process."""
        return self._kind(path) in _IN_PROCESS

    def start(self, path: Path) -> PendingExtraction:
        """Start reading the file in the worker process and return at once:
        the caller does other work meanwhile (one file at a time)."""
        pending = self._worker().apply_async(extract, (path, self.limits))
        deadline = time.monotonic() + self.limits.timeout_s + 10
        return PendingExtraction(self, path, pending, deadline)

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


class PendingExtraction:
    """A file being read in the worker process."""

    def __init__(
        self,
        extractor: TimeboxedExtractor,
        path: Path,
        pending: AsyncResult,
        deadline: float,
    ) -> None:
        self.extractor = extractor
        self.path = path
        self._pending = pending
        self._deadline = deadline

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`; whether `result()` returns at once now."""
        self._pending.wait(seconds)
        return self.done()

    def done(self) -> bool:
        """Finished, failed or overrun: `result()` returns (or raises) now."""
        return self._pending.ready() or time.monotonic() >= self._deadline

    def result(self, *, stop: threading.Event | None = None) -> Extraction:
        """Wait for the text; `Cancelled` when `stop` is set meanwhile, an
        `ExtractError` (timeout) when the worker overruns (it is killed)."""
        limits = self.extractor.limits
        while True:
            if stop is not None and stop.is_set():
                self.extractor.close()
                raise Cancelled(f"{self.path}: stopped while reading it")
            left = max(0.0, self._deadline - time.monotonic())
            self._pending.wait(min(STOP_POLL_S, left))
            if self._pending.ready():
                return self._pending.get()
            if time.monotonic() >= self._deadline:
                self.extractor.close()
                raise ExtractError(
                    f"{self.path}: reading took longer than {limits.timeout_s:.0f} s",
                    code="timeout",
                    permanent=False,
                )
