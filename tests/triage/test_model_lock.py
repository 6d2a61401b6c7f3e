"""One llama.cpp process at a time: real processes wait for the machine's
model lock, say so, and go on once it is free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edgebox.errors import Cancelled
from edgebox.triage.model_lock import model_turn
from tests.support.paths import REPO
from tests.support.processes import as_unprivileged, wait_for

NOTE = "Referral: child with convulsions, SpO2 80 % on air, please see today."


def _edgebox(*args: str, lock: Path) -> subprocess.Popen:
    env = {**os.environ, "EDGEBOX_MODEL_LOCK": str(lock)}
    return subprocess.Popen(
        [sys.executable, "-m", "edgebox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stderr_lines(proc: subprocess.Popen, into: list[str]) -> threading.Thread:
    """Read stderr as it comes (a full pipe would stall the process)."""

    def read() -> None:
        for line in proc.stderr:
            into.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


@pytest.mark.model
def test_triage_waits_for_the_model_lock_says_so_and_answers_after(
    tmp_path: Path,
) -> None:
    lock, note = tmp_path / "llama.lock", tmp_path / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    lines: list[str] = []
    with model_turn(lock):  # another process's model is computing
        proc = _edgebox("triage", str(note), "--json", lock=lock)
        reader = _stderr_lines(proc, lines)
        wait_for(
            lambda: any("waiting for the model" in line for line in lines),
            timeout_s=120,
            what="triage to say that it waits for the model",
        )
        assert proc.poll() is None  # still waiting, not computing beside us
        assert str(os.getpid()) in "".join(lines)  # names the holder
    out, _ = proc.communicate(timeout=300)
    reader.join(timeout=5)
    assert proc.returncode == 0, "".join(lines)
    (result,) = [json.loads(line) for line in out.splitlines()]
    assert result["urgency"] == "emergency"


@pytest.mark.model
def test_process_beside_a_busy_model_waits_then_triages_every_document(
    tmp_path: Path, edgebox_home: Path
) -> None:
    lock = tmp_path / "llama.lock"
    init = subprocess.run(
        [sys.executable, "-m", "edgebox", "init"], capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    (edgebox_home / "inbox" / "a.txt").write_text(NOTE, encoding="utf-8")
    lines: list[str] = []
    with model_turn(lock):
        proc = _edgebox("process", "--json", lock=lock)
        reader = _stderr_lines(proc, lines)
        wait_for(
            lambda: any("waiting for the model" in line for line in lines),
            timeout_s=120,
            what="process to say that it waits for the model",
        )
        assert proc.poll() is None
    out, _ = proc.communicate(timeout=300)
    reader.join(timeout=5)
    assert proc.returncode == 0, "".join(lines)
    (row,) = json.loads(out)
    assert (row["state"], row["error"]) == ("triaged", None)


def test_a_stop_while_waiting_for_the_model_cancels_the_wait(tmp_path: Path) -> None:
    lock, stop = tmp_path / "llama.lock", threading.Event()
    stop.set()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Cancelled), model_turn(lock, cancel=stop):
            pass
    finally:
        holder.kill()
        holder.wait()
    with model_turn(lock) as waited:  # the holder died: the kernel freed it
        assert waited >= 0


def test_a_lock_file_that_cannot_be_opened_names_it(tmp_path: Path) -> None:
    from edgebox.errors import ModelError

    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    with pytest.raises(ModelError, match=str(blocked / "llama.lock")):
        with model_turn(blocked / "llama.lock"):
            pass


_HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(600)
"""


def test_the_lock_file_is_made_for_every_account_whatever_the_umask(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "llama.lock"
    old = os.umask(0o077)
    try:
        with model_turn(lock):
            pass
    finally:
        os.umask(old)
    assert lock.stat().st_mode & 0o777 == 0o666
    assert lock.read_text(encoding="utf-8") == f"{os.getpid()}\n"


def test_a_lock_file_another_account_made_is_taken_read_only(
    shared_home: Path,
) -> None:
    lock = shared_home.parent / "llama.lock"
    lock.write_text("", encoding="utf-8")
    lock.chmod(0o644)  # another account's file that this one may only read
    take = (
        "import sys; from pathlib import Path\n"
        "from edgebox.triage.model_lock import model_turn\n"
        "with model_turn(Path(sys.argv[1])) as waited: print('took it')"
    )
    command = as_unprivileged([sys.executable, "-c", take, str(lock)])
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "took it\n"


_BACKLOG = """
import sys, time
from pathlib import Path
from edgebox.triage.model_lock import model_turn
lock, log = Path(sys.argv[1]), Path(sys.argv[2])
for turn in range(int(sys.argv[3])):
    with model_turn(lock):
        with log.open("a") as out:
            out.write(f"{turn}\\n")
        print(turn, flush=True)
        time.sleep(0.2)  # a model's answer, in short
"""


def test_a_waiter_gets_the_next_turn_from_a_process_working_a_backlog(
    tmp_path: Path,
) -> None:
    """flock alone is not fair: the service taking turn after turn would keep
    a foreground `triage` (or the service an `eval`) waiting for its whole
    backlog. The waiter gets the turn after the one in progress."""
    lock, log = tmp_path / "llama.lock", tmp_path / "turns.log"
    backlog = subprocess.Popen(
        [sys.executable, "-c", _BACKLOG, str(lock), str(log), "15"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert backlog.stdout.readline().strip() == "0"  # it holds its first turn
        with model_turn(lock):
            turns_before_mine = len(log.read_text().split())
        assert turns_before_mine <= 2, f"waited through {turns_before_mine} turns"
    finally:
        backlog.kill()
        backlog.wait()
