"""Files dropped into a real inbox, and the faults an inbox meets: reads that
fail after the file opens, and a root that meets file modes."""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgebox import config


def drop(settings: config.Config, name: str, content: bytes | str) -> Path:
    path = settings.inbox_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


class FlakyShareReads:
    """Fault injector: the inbox file opens, then every read fails with EIO,
    as a file on a failing disk or a dropped network share does."""

    def __init__(self, real: io.BufferedReader) -> None:
        self.real = real

    def __enter__(self) -> FlakyShareReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()

    def read(self, size: int = -1) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))


def without_file_access(command: list[str], unreadable: Path) -> list[str]:
    """The command as a user who meets file modes: as root, without the
    capabilities that let root read any file (the unit runs as User=edgebox)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: every file is readable")
    caps = "-dac_override,-dac_read_search"
    dropped = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", "--"]
    probe = [*dropped, sys.executable, "-c", "import sys; open(sys.argv[1]).read()"]
    if subprocess.run([*probe, str(unreadable)], capture_output=True).returncode == 0:
        pytest.skip("root reads a mode-000 file here even without its capabilities")
    return [*dropped, *command]
