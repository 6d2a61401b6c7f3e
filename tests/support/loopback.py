"""A real central server in a subprocess on 127.0.0.1, for tests and the bench.

A subprocess rather than a thread: it can be killed mid-batch like a real
server, and it does not share the client's interpreter lock, so what is
measured is what a deployment would see.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from edgebox.errors import SyncError
from edgebox.sync.payload import HEALTH_PATH


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CentralProcess:
    """`edgebox central serve` in a child process; start, kill, restart."""

    def __init__(
        self,
        db_url: str,
        *,
        port: int | None = None,
        max_body_bytes: int | None = None,
        log: Path | None = None,
    ) -> None:
        self.db_url = db_url
        self.port = port or free_port()
        self.max_body_bytes = max_body_bytes
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 30.0) -> CentralProcess:
        args = [sys.executable, "-m", "edgebox.cli.sync", "central", "serve"]
        args += ["--db", self.db_url, "--host", "127.0.0.1", "--port", str(self.port)]
        if self.max_body_bytes is not None:
            args += ["--max-body-bytes", str(self.max_body_bytes)]
        if self.log:
            with self.log.open("ab") as out:  # the child keeps its own copy
                self.process = subprocess.Popen(
                    args, stdout=out, stderr=out, env=os.environ.copy()
                )
        else:
            self.process = subprocess.Popen(
                args,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=os.environ.copy(),
            )
        try:
            wait_until_healthy(self.url, timeout_s=timeout_s, process=self.process)
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; whatever was mid-transaction is lost."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> CentralProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def wait_until_healthy(
    url: str,
    *,
    timeout_s: float,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll GET /v1/health until it answers 200, the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SyncError(f"the central server exited with code {process.returncode}")
        try:
            if httpx.get(url + HEALTH_PATH, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SyncError(f"the central server at {url} did not come up in {timeout_s}s")
