"""`edgebox run`: the service in a child process while the UI runs in front.

A child process, not a thread: the UI stays responsive while llama.cpp holds
the CPU, the service's log lines go to a file instead of over the UI, and the
child is stopped the way systemd stops it (SIGTERM, then a deadline).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

from edgebox.config import Config

STOP_TIMEOUT_S = 30.0
LOG_KEEP_BYTES = 5 * 1024 * 1024
"""serve.log is set aside as serve.log.1 (replacing an older one) at a start
once it passes this: months of running must not fill a small box's disk."""


def rotate_log(path: Path, *, keep_bytes: int = LOG_KEEP_BYTES) -> None:
    """Move a log over `keep_bytes` to `<name>.1`, replacing the previous one."""
    try:
        if path.stat().st_size > keep_bytes:
            path.replace(path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


class ServiceProcess:
    """`edgebox serve` as a child, its output appended to `<data>/serve.log`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.log_path: Path = config.data_dir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._forward_signals()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        rotate_log(self.log_path)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edgebox", "--home", str(self.config.home), "serve"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C meant for the UI does not reach it.
            start_new_session=True,
            env=os.environ.copy(),
        )

    def _forward_signals(self) -> None:
        """The child runs in its own session, so a closed terminal (SIGHUP) or
        a `kill` of `edgebox run` (SIGTERM) would leave it running, holding the
        workspace: pass the signal on as SIGTERM (it sets the document in hand
        aside for its next start and records its stop), then end as the signal
        says."""

        def forward(signum: int, frame: object) -> None:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

        for signum in (signal.SIGHUP, signal.SIGTERM):
            signal.signal(signum, forward)

    def exit_status(self) -> int | None:
        """The child's exit status if it has ended, else None (still running)."""
        return None if self.process is None else self.process.poll()

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL past the deadline; the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
        return self.process.returncode

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
