"""Keeping llama.cpp off CPU paths that crash, before the model is loaded.

llama.cpp repacks weights into "extra buffer types" for some CPUs; on a CPU
that advertises Intel AMX it uses AMX tiles. Its AMX kernels fault on many
such machines (virtual machines most of all: the tile state is not granted to
worker threads, llama.cpp issue 20824, pull request 26954), and a fault there
kills the whole process with a segmentation fault on the first document. No
clinic box has AMX (it is a server Xeon feature), so edgebox turns the extra
buffer types off where AMX is advertised, and leaves them on elsewhere (the
AVX2 and ARM repacks are safe and faster for Q4_0 models).

llama-cpp-python's `Llama` has no parameter for llama.cpp's
`use_extra_bufts`; it builds its model parameters from
`llama_model_default_params()`, so that one call is wrapped while the model
loads, under a lock, and put back at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CPUINFO = Path("/proc/cpuinfo")
_patching = threading.Lock()


def advertises_amx(cpuinfo: str) -> bool:
    """Whether a /proc/cpuinfo text lists the AMX tile flag."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return "amx_tile" in line.split(":", 1)[-1].split()
    return False


def extra_buffers_safe(cpuinfo_path: Path | None = None) -> bool:
    """False where llama.cpp would take its AMX path; True where the file
    cannot be read (not Linux): nothing there is known to crash."""
    try:
        text = (cpuinfo_path or CPUINFO).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return not advertises_amx(text)


@contextlib.contextmanager
def model_params(*, extra_buffers: bool) -> Iterator[None]:
    """While inside, models that llama-cpp-python loads get `use_extra_bufts`
    as given (nothing changes when True)."""
    if extra_buffers:
        yield
        return
    from llama_cpp import llama_cpp as native  # lazy: native library

    with _patching:
        default = native.llama_model_default_params

        def without_extra_buffers() -> Any:
            params = default()
            params.use_extra_bufts = False
            return params

        native.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            native.llama_model_default_params = default
