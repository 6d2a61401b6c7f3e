"""One service per workspace.

Two services on the same store would both pick up the same documents. The lock
is an advisory `flock` on a file in the data folder: the kernel drops it when
the process dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from edgebox.errors import EdgeboxError


class ServiceRunning(EdgeboxError):
    title = "service already running"


class InstanceLock:
    """Held while a service runs on a workspace; `with` or acquire/release."""

    def __init__(
        self, path: Path, *, on_acquire: Callable[[], object] | None = None
    ) -> None:
        self.path = path
        self.on_acquire = on_acquire
        """Called once the lock is held: work that must not run beside
        another service (and is never run when the lock is refused)."""
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ServiceRunning(
                f"another edgebox service (pid {holder}) is running on"
                f" {self.path.parent}; stop it first, or open `edgebox tui`"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        if self.on_acquire is not None:
            try:
                self.on_acquire()
            except BaseException:
                self.release()
                raise

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
