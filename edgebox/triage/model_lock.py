"""One llama.cpp computation at a time on this machine.

llama.cpp starts one thread per core; two processes that compute at once spin
against each other (many times slower than one alone on a small box:
docs/benchmarks.md). Every edgebox process that runs the model
(`serve`, `triage`, `eval`, `process`, whatever its workspace) takes an
advisory `flock` on one file per machine while the model reads a prompt and
answers, and waits for it otherwise. The kernel drops the lock when a process
dies, so a crash never leaves it held.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edgebox.errors import Cancelled, ModelError

log = logging.getLogger(__name__)

_POLL_S = 0.05


@contextmanager
def model_turn(path: Path, *, cancel: threading.Event | None = None) -> Iterator[float]:
    """Hold the machine's model lock; yields the seconds spent waiting for it
    (a caller's deadline should not count them)."""
    fd = _open(path)
    try:
        yield _wait(fd, path, cancel)
    finally:
        os.close(fd)  # closing drops the flock


def _open(path: Path) -> int:
    """The lock file, shared by every account that runs edgebox (the service's
    and the staff's)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _open_shared(path)
    except OSError as exc:
        raise ModelError(
            f"cannot open the model lock {path}: {exc.strerror} "
            "(set model.lock to a file every edgebox user may read)"
        ) from exc


def _open_shared(path: Path) -> int:
    """Made readable and writable by all; opened read-only where another
    account made it (a read-only descriptor still takes a flock, and /tmp
    refuses O_CREAT on another account's file)."""
    for _ in range(3):
        try:
            return os.open(path, os.O_RDWR)
        except FileNotFoundError:
            pass
        except PermissionError:
            return os.open(path, os.O_RDONLY)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue  # another process made it just now
        os.fchmod(fd, 0o666)  # past the umask: every account takes turns
        return fd
    return os.open(path, os.O_RDONLY)


def _wait(fd: int, path: Path, cancel: threading.Event | None) -> float:
    """Take the lock, saying once that another process holds it."""
    started = time.monotonic()
    said = False
    while not _try(fd):
        if not said:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            log.warning(
                "waiting for the model: another edgebox process (pid %s) is "
                "using it (%s); one model at a time on this machine",
                holder or "unknown",
                path,
            )
            said = True
        if cancel is not None and cancel.is_set():
            raise Cancelled("stopped while waiting for the model")
        time.sleep(_POLL_S)
    _say_holder(fd)
    return time.monotonic() - started


def _say_holder(fd: int) -> None:
    """Write this pid for a waiter to name (not where the file is read-only)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
