"""One llama.cpp computation at a time on this machine.

llama.cpp starts one thread per core; two processes that compute at once spin
against each other (many times slower than one alone on a small box:
docs/benchmarks.md). Every edgebox process that runs the model
(`serve`, `triage`, `eval`, `process`, whatever its workspace) takes an
advisory `flock` on one file per machine while the model reads a prompt and
answers, and waits for it otherwise. The kernel drops the lock when a process
dies, so a crash never leaves it held.

`flock` is not fair: a process that releases the lock and asks again at once
(the service working through a backlog, `eval` through a file) wins against a
waiter that polls, so the waiter could wait for the whole backlog. Waiters
therefore hold a shared lock on a second file (`<lock>.waiting`) while they
wait; a process that sees, as it lets go, that someone waits, pauses before
its next turn long enough for the waiter to take it. Turns then alternate.
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
_COURTESY_S = 4 * _POLL_S
"""The pause before the next turn of a process that let go while another
waited: longer than a waiter's poll, short beside a model's answer."""
_owe_a_turn = False
"""Whether this process let go of its last turn while another waited."""


@contextmanager
def model_turn(path: Path, *, cancel: threading.Event | None = None) -> Iterator[float]:
    """Hold the machine's model lock; yields the seconds spent waiting for it
    (a caller's deadline should not count them)."""
    global _owe_a_turn
    fd, waiting = _open(path), _open_waiting(path)
    try:
        if waiting is not None:
            fcntl.flock(waiting, fcntl.LOCK_SH)  # "I wait", seen by the holder
        if _owe_a_turn:
            time.sleep(_COURTESY_S)  # the waiter's turn first
        waited = _wait(fd, path, cancel)
        if waiting is not None:
            fcntl.flock(waiting, fcntl.LOCK_UN)
        yield waited
    finally:
        _owe_a_turn = _someone_waits(waiting)
        os.close(fd)  # closing drops the flock
        if waiting is not None:
            os.close(waiting)


def _open_waiting(path: Path) -> int | None:
    """The waiters' file beside the lock; None where this account cannot
    make it (a folder only another account may write): turns still come,
    only not in fair order."""
    try:
        return _open_shared(path.with_name(path.name + ".waiting"))
    except OSError:
        return None


def _someone_waits(waiting: int | None) -> bool:
    """Whether another process holds the waiting file's shared lock."""
    if waiting is None:
        return False
    try:
        fcntl.flock(waiting, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(waiting, fcntl.LOCK_UN)
    return False


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
